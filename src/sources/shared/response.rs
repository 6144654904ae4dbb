//! The one reader of provider response shapes: OpenAI chat completions, the OpenAI Responses API, Anthropic
//! messages and Gemini `generateContent`. API logs use it today; LiteLLM and OpenRouter payloads carry the
//! same shapes and reuse it.
//!
//! [`RawResponse`] keeps only the metadata we store (`id`, `object`, `type`, `model`, timestamps, service tier,
//! `usage`/`usageMetadata`, `error`). Every other key, including all prompt and completion text, is skipped
//! by serde without being copied. Strings are borrowed from the input when they have no escapes.
//!
//! Each shape counts tokens differently; [`RawResponse::tokens`] maps them onto the disjoint classes of
//! [`TokenCounts`] (reference/provider-formats.md §0):
//!
//! | shape | uncached input | cache read / write | output | reasoning |
//! |---|---|---|---|---|
//! | OpenAI chat | `prompt_tokens` − cached − cache write − audio | `cached_tokens` / `cache_write_tokens` (5m) | `completion_tokens` − audio | `reasoning_tokens` (inside output) |
//! | OpenAI Responses | `input_tokens` − cached − cache write | `cached_tokens` / `cache_write_tokens` (5m) | `output_tokens` | `reasoning_tokens` (inside output) |
//! | Anthropic | `input_tokens` (already uncached) | `cache_read_input_tokens` / `cache_creation` 5m + 1h | `output_tokens` | `thinking_tokens` (inside output) |
//! | Gemini | `promptTokenCount` − cached + `toolUsePromptTokenCount` | `cachedContentTokenCount` / – | `candidatesTokenCount` + `thoughtsTokenCount` | `thoughtsTokenCount` |
//! | Cohere v2 chat | `billed_units.input_tokens` | – | `billed_units.output_tokens` | – |
//! | Bedrock Converse | `inputTokens` (already uncached) | `cacheReadInputTokens` / `cacheWriteInputTokens` (5m) | `outputTokens` | – |
//!
//! OpenAI-compatible providers use the OpenAI chat row, with two differences read from the usage itself:
//! DeepSeek reports its cache as `prompt_cache_hit_tokens` (read as cached) and `prompt_cache_miss_tokens`
//! (uncached; their sum is `prompt_tokens`); xAI counts reasoning beside `completion_tokens`, not inside it
//! (`total_tokens` = prompt + completion + reasoning), and bills it as output, so it is added to output.
//!
//! A part larger than its total (more cached tokens than prompt tokens) is an input error naming the field,
//! never a wrapped-around count.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::common;
use crate::error::RecordError;
use crate::record::{FailureClass, Provider, Text, TokenCounts};
use crate::timestamp::Timestamp;

/// A short string field (id, model, name) borrowed from the input when it has no escapes. Numbers and
/// booleans are accepted as their text (`"user": 42` is user `42`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Label<'a>(pub Cow<'a, str>);

impl Label<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text without surrounding white space, or `None` when nothing is left.
    pub fn nonempty(&self) -> Option<&str> {
        let s = crate::record::trimmed(&self.0);
        (!s.is_empty()).then_some(s)
    }

    /// The text as record text (inline up to 24 bytes), or `None` when it is empty or only white space.
    pub fn to_nonempty(&self) -> Option<Text> {
        self.nonempty().map(Text::from)
    }

    /// The same label, no longer borrowing its input.
    pub fn into_owned(self) -> Label<'static> {
        Label(Cow::Owned(self.0.into_owned()))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Label<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Label<'a>, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Label<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Label<'a>, E> {
                Ok(Label(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Label<'a>, E> {
                Ok(Label(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Label<'a>, E> {
                Ok(Label(Cow::Owned(s)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Label<'a>, E> {
                Ok(Label(Cow::Owned(n.to_string())))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Label<'a>, E> {
                Ok(Label(Cow::Owned(n.to_string())))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Label<'a>, E> {
                Ok(Label(Cow::Borrowed(if b { "true" } else { "false" })))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Whether an `error` key holds an error: `null`, `false`, `""`, `{}` and `[]` do not. The second field is the
/// failure class its `type`, `code` or `status` names (`overloaded_error`, `rate_limit_exceeded`, `429`),
/// when it names one; the text itself is not kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorFlag(pub bool, pub Option<FailureClass>);

impl<'de> Deserialize<'de> for ErrorFlag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ErrorFlag, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ErrorFlag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an error object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ErrorFlag, E> {
                Ok(ErrorFlag(false, None))
            }
            fn visit_none<E: de::Error>(self) -> Result<ErrorFlag, E> {
                Ok(ErrorFlag(false, None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ErrorFlag, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<ErrorFlag, E> {
                Ok(ErrorFlag(b, None))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ErrorFlag, E> {
                Ok(ErrorFlag(n != 0, None))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ErrorFlag, E> {
                Ok(ErrorFlag(n != 0, None))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<ErrorFlag, E> {
                Ok(ErrorFlag(n != 0.0, None))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ErrorFlag, E> {
                Ok(ErrorFlag(
                    !s.trim().is_empty(),
                    FailureClass::from_error_name(s),
                ))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorFlag, A::Error> {
                let mut any = false;
                let mut class = None;
                while let Some(Key(key)) = map.next_key::<Key<ErrorKey>>()? {
                    any = true;
                    match key {
                        Some(ErrorKey::Name) => {
                            let ErrorName(c) = map.next_value()?;
                            class = class.or(c);
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(ErrorFlag(any, class))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ErrorFlag, A::Error> {
                let mut any = false;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    any = true;
                }
                Ok(ErrorFlag(any, None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The keys of an error object that can name its class.
enum ErrorKey {
    Name,
}

impl KeyName for ErrorKey {
    fn from_name(name: &[u8]) -> Option<ErrorKey> {
        matches!(name, b"type" | b"code" | b"status").then_some(ErrorKey::Name)
    }
}

/// An error's `type`, `code` or `status` value read as a failure class; any other value is skipped.
struct ErrorName(Option<FailureClass>);

impl<'de> Deserialize<'de> for ErrorName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ErrorName, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ErrorName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an error type or code")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ErrorName, E> {
                Ok(ErrorName(FailureClass::from_error_name(s)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ErrorName, E> {
                Ok(ErrorName(
                    u16::try_from(n).ok().and_then(FailureClass::from_status),
                ))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ErrorName, E> {
                Ok(ErrorName(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ErrorName, E> {
                Ok(ErrorName(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ErrorName, E> {
                Ok(ErrorName(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ErrorName, E> {
                Ok(ErrorName(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ErrorName, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_none<E: de::Error>(self) -> Result<ErrorName, E> {
                Ok(ErrorName(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorName, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ErrorName(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ErrorName, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ErrorName(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Names of the keys a hand-written map visitor reads; every other key is skipped. Names are matched as
/// bytes: every name we read is ASCII, so a key that is not UTF-8 matches none and needs no check.
pub trait KeyName: Sized {
    fn from_name(name: &[u8]) -> Option<Self>;
}

/// A map key, recognised by `K::from_name` (`None`: a key to skip) without allocating. Read as bytes
/// (`deserialize_bytes`): JSON keys are unescaped as usual, but not checked for UTF-8, which cost more
/// than the rest of reading a key. The parse that names an error's field reads them as strings.
pub struct Key<K>(pub Option<K>);

impl<'de, K: KeyName> Deserialize<'de> for Key<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<K>, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<K: KeyName> Visitor<'_> for V<K> {
            type Value = Key<K>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<K>, E> {
                Ok(Key(K::from_name(s.as_bytes())))
            }
            fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Key<K>, E> {
                Ok(Key(K::from_name(b)))
            }
        }
        if common::is_naming_fields() {
            d.deserialize_identifier(V(PhantomData))
        } else {
            d.deserialize_bytes(V(PhantomData))
        }
    }
}

/// The keys of a raw provider response that we keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKey {
    Id,
    Object,
    Type,
    Model,
    Created,
    CreatedAt,
    CreateTime,
    ServiceTier,
    Usage,
    UsageMetadata,
    ModelVersion,
    ResponseId,
    Error,
    Body,
    StatusCode,
    /// OpenAI Responses `output` items: built-in tool calls are counted, nothing else is kept.
    Output,
    /// Anthropic `content` blocks: code execution server tool uses are counted, nothing else is kept.
    Content,
    /// Gemini `candidates`: grounding with Google Search is counted, nothing else is kept.
    Candidates,
    /// Anthropic `message_start` event: the message it starts.
    Message,
    /// OpenAI Responses stream event (`response.completed`, …): the response it is about.
    Response,
    /// OpenAI Responses: the tools of the request, echoed (only their `type` is read).
    Tools,
}

impl KeyName for ResponseKey {
    fn from_name(name: &[u8]) -> Option<ResponseKey> {
        // By length first, then among the few names of that length: this runs for every key of a
        // response, and a plain match tried the names one after another.
        Some(match name.len() {
            2 if name == b"id" => ResponseKey::Id,
            4 => match name {
                b"type" => ResponseKey::Type,
                b"body" => ResponseKey::Body,
                _ => return None,
            },
            5 => match name {
                b"model" => ResponseKey::Model,
                b"usage" => ResponseKey::Usage,
                b"error" => ResponseKey::Error,
                b"tools" => ResponseKey::Tools,
                _ => return None,
            },
            6 => match name {
                b"object" => ResponseKey::Object,
                b"output" => ResponseKey::Output,
                _ => return None,
            },
            7 => match name {
                b"created" => ResponseKey::Created,
                b"content" => ResponseKey::Content,
                b"message" => ResponseKey::Message,
                _ => return None,
            },
            8 if name == b"response" => ResponseKey::Response,
            10 => match name {
                b"created_at" => ResponseKey::CreatedAt,
                b"createTime" => ResponseKey::CreateTime,
                b"responseId" => ResponseKey::ResponseId,
                b"candidates" => ResponseKey::Candidates,
                _ => return None,
            },
            11 if name == b"status_code" => ResponseKey::StatusCode,
            12 => match name {
                b"service_tier" => ResponseKey::ServiceTier,
                b"modelVersion" => ResponseKey::ModelVersion,
                _ => return None,
            },
            13 if name == b"usageMetadata" => ResponseKey::UsageMetadata,
            _ => return None,
        })
    }
}

/// A provider response with only the fields we keep. Deserializes from any of the four shapes.
#[derive(Debug, Default)]
pub struct RawResponse<'a> {
    /// `chatcmpl-…`, `resp_…`, `msg_…`.
    pub id: Option<Label<'a>>,
    /// OpenAI: `chat.completion`, `chat.completion.chunk`, `response`.
    pub object: Option<Label<'a>>,
    /// Anthropic: `message` (or `error`).
    pub kind: Option<Label<'a>>,
    pub model: Option<Label<'a>>,
    /// OpenAI chat (unix seconds).
    pub created: Option<Timestamp>,
    /// OpenAI Responses (unix seconds).
    pub created_at: Option<Timestamp>,
    /// Gemini / Vertex (RFC 3339).
    pub create_time: Option<Timestamp>,
    /// OpenAI: the tier that served the request.
    pub service_tier: Option<Label<'a>>,
    /// Boxed, as the usage metadata: a response is moved several times while a line is read, and these
    /// two were most of its size.
    pub usage: Option<Box<Usage<'a>>>,
    pub usage_metadata: Option<Box<UsageMetadata<'a>>>,
    pub model_version: Option<Label<'a>>,
    pub response_id: Option<Label<'a>>,
    pub error: ErrorFlag,
    /// OpenAI Batch output: the response is `{"status_code", "request_id", "body": {…response…}}`.
    pub body: Option<Box<RawResponse<'a>>>,
    /// OpenAI Batch output: the HTTP status of the batched request.
    pub status_code: Option<u16>,
    /// Built-in tool calls counted in `output` (OpenAI Responses), `content` (Anthropic) and `candidates`
    /// (Gemini).
    pub tools: ToolTally,
    /// The web search tools an OpenAI response's echoed `tools` names.
    pub declared: DeclaredTools,
    /// A stream event's payload (see [`is_stream_event`]): the message of an Anthropic `message_start`,
    /// the response of an OpenAI Responses `response.completed`. Read only after the event's `type`.
    pub nested: Option<Box<RawResponse<'a>>>,
}

/// Whether `kind` (a `type`) is an event of a streamed response: OpenAI Responses events (`response.created`
/// … `response.completed`) and Anthropic server-sent events (`message_start`, `content_block_delta`,
/// `message_delta`, `message_stop`, `ping`).
pub fn is_stream_event(kind: &str) -> bool {
    kind.starts_with("response.")
        || matches!(
            kind,
            "message_start"
                | "message_delta"
                | "message_stop"
                | "content_block_start"
                | "content_block_delta"
                | "content_block_stop"
                | "ping"
        )
}

impl<'a> RawResponse<'a> {
    /// The same response, no longer borrowing its input (a response logged as JSON text inside a string).
    pub fn into_owned(self) -> RawResponse<'static> {
        let own = |l: Option<Label<'_>>| l.map(Label::into_owned);
        RawResponse {
            id: own(self.id),
            object: own(self.object),
            kind: own(self.kind),
            model: own(self.model),
            created: self.created,
            created_at: self.created_at,
            create_time: self.create_time,
            service_tier: own(self.service_tier),
            usage: self.usage.map(|u| Box::new(u.into_owned())),
            usage_metadata: self.usage_metadata.map(|m| Box::new(m.into_owned())),
            model_version: own(self.model_version),
            response_id: own(self.response_id),
            error: self.error,
            body: self.body.map(|b| Box::new(b.into_owned())),
            status_code: self.status_code,
            tools: self.tools,
            declared: self.declared,
            nested: self.nested.map(|n| Box::new(n.into_owned())),
        }
    }

    /// Folds the next chunk of a streamed response (a JSON array of chunks, as Gemini's
    /// `streamGenerateContent` returns) into this one: names and times from whichever chunk has them, usage
    /// from the last chunk that carries it (streamed counts are cumulative).
    fn merge(&mut self, next: RawResponse<'a>) {
        fn keep<T>(mine: &mut Option<T>, theirs: Option<T>) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        keep(&mut self.id, next.id);
        keep(&mut self.object, next.object);
        keep(&mut self.kind, next.kind);
        keep(&mut self.model, next.model);
        keep(&mut self.created, next.created);
        keep(&mut self.created_at, next.created_at);
        keep(&mut self.create_time, next.create_time);
        keep(&mut self.service_tier, next.service_tier);
        keep(&mut self.model_version, next.model_version);
        keep(&mut self.response_id, next.response_id);
        if next.usage.is_some() {
            self.usage = next.usage;
        }
        if next.usage_metadata.is_some() {
            self.usage_metadata = next.usage_metadata;
        }
        self.error.0 |= next.error.0;
        self.error.1 = self.error.1.or(next.error.1);
        keep(&mut self.body, next.body);
        keep(&mut self.status_code, next.status_code);
        // Grounding metadata and tool items come once, in the chunk that carries them.
        if next.tools != ToolTally::default() {
            self.tools = next.tools;
        }
        self.declared.web_search |= next.declared.web_search;
        self.declared.web_search_preview |= next.declared.web_search_preview;
        keep(&mut self.nested, next.nested);
    }

    /// Reads the value of one kept key from `map`. Readers that parse an envelope and the response fields in
    /// one pass (API log lines) call this for the response's keys instead of copying the field list.
    pub fn read_value<'de: 'a, A: MapAccess<'de>>(
        &mut self,
        key: ResponseKey,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key {
            ResponseKey::Id => self.id = map.next_value()?,
            ResponseKey::Object => self.object = map.next_value()?,
            ResponseKey::Type => self.kind = map.next_value()?,
            ResponseKey::Model => self.model = map.next_value()?,
            ResponseKey::Created => self.created = map.next_value()?,
            ResponseKey::CreatedAt => self.created_at = map.next_value()?,
            ResponseKey::CreateTime => self.create_time = map.next_value()?,
            ResponseKey::ServiceTier => self.service_tier = map.next_value()?,
            ResponseKey::Usage => self.usage = map.next_value()?,
            ResponseKey::UsageMetadata => self.usage_metadata = map.next_value()?,
            ResponseKey::ModelVersion => self.model_version = map.next_value()?,
            ResponseKey::ResponseId => self.response_id = map.next_value()?,
            ResponseKey::Error => self.error = map.next_value()?,
            ResponseKey::Body => self.body = map.next_value()?,
            ResponseKey::StatusCode => self.status_code = map.next_value()?,
            ResponseKey::Output | ResponseKey::Content => {
                let items: ToolItems = map.next_value()?;
                self.tools.add(&items.0);
            }
            ResponseKey::Tools => {
                let declared: DeclaredTools = map.next_value()?;
                self.declared.web_search |= declared.web_search;
                self.declared.web_search_preview |= declared.web_search_preview;
            }
            ResponseKey::Candidates => {
                let grounding: Grounding = map.next_value()?;
                self.tools.add(&grounding.0);
            }
            ResponseKey::Message | ResponseKey::Response => {
                if self
                    .kind
                    .as_ref()
                    .is_some_and(|k| is_stream_event(k.as_str()))
                {
                    self.nested = map.next_value()?;
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    /// The response's own time: `created`, `created_at` or `createTime`.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.created.or(self.created_at).or(self.create_time)
    }

    /// The provider's id of the response (`chatcmpl-…`, `resp_…`, `msg_…`, Gemini `responseId`).
    pub fn response_id(&self) -> Option<&str> {
        nonempty(self.id.as_ref()).or_else(|| nonempty(self.response_id.as_ref()))
    }

    /// The model as reported: `model`, else Gemini `modelVersion`.
    pub fn model(&self) -> Option<&str> {
        nonempty(self.model.as_ref()).or_else(|| nonempty(self.model_version.as_ref()))
    }

    /// Whether the response carries token counts at all.
    pub fn has_usage(&self) -> bool {
        self.usage.is_some() || self.usage_metadata.is_some()
    }

    /// A streaming chunk (`chat.completion.chunk`): only the last one carries usage.
    pub fn is_chunk(&self) -> bool {
        self.object
            .as_ref()
            .is_some_and(|o| o.as_str() == "chat.completion.chunk")
    }

    /// Token counts in disjoint classes, with the built-in tool calls the response shows. `base` is the
    /// path of this response in its line (`""` for a raw line, `"response"` inside an envelope), used to
    /// name fields in errors.
    pub fn tokens(&self, shape: Shape, base: &str, line: u64) -> Result<TokenCounts, RecordError> {
        let mut tokens = self.usage_tokens(shape, base, line)?;
        let tools = &self.tools;
        match shape {
            // A response whose tools are the older `web_search_preview` (and not `web_search`) ran its
            // searches with it: they bill at its own rate.
            Shape::OpenAiResponses if self.declared.is_preview_only() => {
                tokens.web_search_preview_calls = tokens.web_search_requests.max(tools.web_search);
                tokens.web_search_requests = 0;
                tokens.file_search_calls = tools.file_search;
                tokens.code_execution_calls = tools.code_execution;
            }
            Shape::OpenAiResponses => {
                tokens.web_search_requests = tokens.web_search_requests.max(tools.web_search);
                tokens.file_search_calls = tools.file_search;
                tokens.code_execution_calls = tools.code_execution;
            }
            // Web searches and fetches are counted in `usage.server_tool_use`; code execution only in
            // the content blocks (unless a `code_execution_requests` count says more).
            Shape::Anthropic => {
                tokens.code_execution_calls = tokens.code_execution_calls.max(tools.code_execution);
            }
            Shape::Gemini => {
                tokens.web_search_requests = tools.web_search;
                tokens.grounded_prompts = tools.grounded_prompts;
            }
            _ => {}
        }
        Ok(tokens)
    }

    fn usage_tokens(
        &self,
        shape: Shape,
        base: &str,
        line: u64,
    ) -> Result<TokenCounts, RecordError> {
        let usage_base = join_usual(base, "usage");
        match (shape, &self.usage, &self.usage_metadata) {
            (Shape::OpenAiChat, Some(u), _) => openai_chat_tokens(u, &usage_base, line),
            (Shape::OpenAiResponses, Some(u), _) => openai_responses_tokens(u, &usage_base, line),
            (Shape::Anthropic, Some(u), _) => anthropic_tokens(u, &usage_base, line),
            (Shape::Gemini, _, Some(m)) => {
                gemini_tokens(m, &join_usual(base, "usageMetadata"), line)
            }
            (Shape::Cohere, Some(u), _) => Ok(cohere_tokens(u)),
            (Shape::Bedrock, Some(u), _) => Ok(bedrock_tokens(u)),
            _ => Ok(TokenCounts::default()),
        }
    }

    /// The service tier that served the request: OpenAI top-level `service_tier`, Anthropic
    /// `usage.service_tier` (`fast` when `usage.speed` says so, see [`Usage::anthropic_tier`]), Gemini `usageMetadata.trafficType` (as reported, e.g. `ON_DEMAND`).
    pub fn service_tier(&self, shape: Shape) -> Option<&str> {
        let usage_tier = || nonempty(self.usage.as_ref().and_then(|u| u.service_tier.as_ref()));
        match shape {
            Shape::OpenAiChat | Shape::OpenAiResponses => {
                nonempty(self.service_tier.as_ref()).or_else(usage_tier)
            }
            Shape::Anthropic => self
                .usage
                .as_ref()
                .and_then(|u| u.anthropic_tier())
                .or_else(|| nonempty(self.service_tier.as_ref())),
            Shape::Gemini => nonempty(
                self.usage_metadata
                    .as_ref()
                    .and_then(|m| m.traffic_type.as_ref()),
            ),
            Shape::Cohere | Shape::Bedrock => None,
        }
    }

    /// Where the request ran, when the response says: Anthropic `usage.inference_geo`.
    pub fn region(&self) -> Option<&str> {
        nonempty(self.usage.as_ref().and_then(|u| u.inference_geo.as_ref()))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawResponse<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawResponse<'a>, D::Error> {
        d.deserialize_any(RawVisitor(PhantomData))
    }
}

/// What every reader of a response expects.
const RESPONSE_EXPECTED: &str =
    "a provider response object (or its JSON text, or an array of streamed chunks)";

struct RawVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for RawVisitor<'a> {
    type Value = RawResponse<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(RESPONSE_EXPECTED)
    }
    /// A response logged as JSON text inside a string.
    fn visit_str<E: de::Error>(self, text: &str) -> Result<RawResponse<'a>, E> {
        serde_json::from_str::<RawResponse<'_>>(text)
            .map(RawResponse::into_owned)
            .map_err(|e| {
                E::custom(format!(
                    "a response given as text does not read as one: {e}"
                ))
            })
    }
    /// A streamed response saved as the array of its chunks.
    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<RawResponse<'a>, S::Error> {
        let mut raw = RawResponse::default();
        while let Some(chunk) = seq.next_element::<RawResponse<'a>>()? {
            raw.merge(chunk);
        }
        Ok(raw)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawResponse<'a>, A::Error> {
        let mut raw = RawResponse::default();
        raw.read_map(map)?;
        Ok(raw)
    }
}

impl<'a> RawResponse<'a> {
    /// Reads the kept keys of a response object into `self`, skipping the rest.
    fn read_map<'de: 'a, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<ResponseKey>>()? {
            match key {
                Some(key) => self.read_value(key, &mut map)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads an optional response (`null`, or what [`RawResponse`] reads) into its place, as
/// `Option<RawResponse>` would be read: an object is read where it stays instead of being moved out of
/// each function that reads it (it is large).
pub struct ResponseInto<'p, 'a>(pub &'p mut Option<RawResponse<'a>>);

impl<'de: 'a, 'a> DeserializeSeed<'de> for ResponseInto<'_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ResponseInto<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(SomeResponseInto(self.0))
    }
}

/// [`ResponseInto`] past `null`: the response itself.
struct SomeResponseInto<'p, 'a>(&'p mut Option<RawResponse<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for SomeResponseInto<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(RESPONSE_EXPECTED)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        *self.0 = Some(RawVisitor(PhantomData).visit_str(text)?);
        Ok(())
    }
    fn visit_seq<S: de::SeqAccess<'de>>(self, seq: S) -> Result<(), S::Error> {
        *self.0 = Some(RawVisitor(PhantomData).visit_seq(seq)?);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.insert(RawResponse::default()).read_map(map)
    }
}

/// `usage` of OpenAI chat, OpenAI Responses and Anthropic messages (one struct: the keys do not clash).
#[derive(Debug, Default, Deserialize)]
pub struct Usage<'a> {
    // OpenAI chat: prompt_tokens is the total, details are subsets.
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub prompt_tokens_details: Option<InputDetails>,
    pub completion_tokens_details: Option<OutputDetails>,
    pub total_tokens: Option<u64>,
    // DeepSeek: the parts of prompt_tokens read from its cache and not.
    pub prompt_cache_hit_tokens: Option<u64>,
    pub prompt_cache_miss_tokens: Option<u64>,
    // Cohere v2: what was billed.
    pub billed_units: Option<BilledUnits>,
    // Bedrock Converse (and InvokeModel of Amazon Nova): `inputTokens` is uncached input only; cache reads
    // and writes are beside it (`…InputTokens` in Converse, `…InputTokenCount` in Nova's InvokeModel body).
    #[serde(rename = "inputTokens")]
    pub bedrock_input: Option<u64>,
    #[serde(rename = "outputTokens")]
    pub bedrock_output: Option<u64>,
    #[serde(rename = "cacheReadInputTokens", alias = "cacheReadInputTokenCount")]
    pub bedrock_cache_read: Option<u64>,
    #[serde(rename = "cacheWriteInputTokens", alias = "cacheWriteInputTokenCount")]
    pub bedrock_cache_write: Option<u64>,
    // OpenAI Responses (input_tokens total) and Anthropic (input_tokens uncached only).
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub input_tokens_details: Option<InputDetails>,
    pub output_tokens_details: Option<OutputDetails>,
    // OpenAI Realtime (`response.done`): the same totals, split by modality.
    pub input_token_details: Option<RealtimeInputDetails>,
    pub output_token_details: Option<RealtimeOutputDetails>,
    // Anthropic.
    pub cache_read_input_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_creation: Option<CacheCreation>,
    pub server_tool_use: Option<ServerToolUse>,
    #[serde(borrow)]
    pub service_tier: Option<Label<'a>>,
    /// Anthropic: `standard`, or `fast` for a request served in fast mode (billed at its own rates).
    #[serde(borrow)]
    pub speed: Option<Label<'a>>,
    #[serde(borrow)]
    pub inference_geo: Option<Label<'a>>,
    /// Anthropic: the sampling iterations of the request (server-side compaction, advisor calls), each
    /// with its own counts. The top-level counts are the `message` iterations only.
    #[serde(default, borrow)]
    pub iterations: Iterations<'a>,
}

/// Anthropic `usage.iterations`: one entry per sampling iteration. Anything but an array (the Agent
/// SDK's `"iterations": 1`) carries no counts and is ignored.
#[derive(Debug, Default)]
pub struct Iterations<'a>(pub Vec<Iteration<'a>>);

/// One sampling iteration of an Anthropic request.
#[derive(Debug, Default, Deserialize)]
pub struct Iteration<'a> {
    /// `message` (counted in the top-level usage), `compaction`, `advisor_message`, …
    #[serde(rename = "type", borrow)]
    pub kind: Option<Label<'a>>,
    /// The model of the iteration when it is not the request's (an advisor).
    #[serde(borrow)]
    pub model: Option<Label<'a>>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_creation: Option<CacheCreation>,
}

impl Iteration<'_> {
    /// Billed on top of the top-level counts: every iteration but the `message` ones.
    pub fn is_extra(&self) -> bool {
        self.kind.as_ref().map(Label::as_str) != Some("message")
    }

    /// The iteration's tokens, in the classes of [`anthropic_tokens`].
    pub fn tokens(&self, base: &str, line: u64) -> Result<TokenCounts, RecordError> {
        let usage = Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_read_input_tokens: self.cache_read_input_tokens,
            cache_creation_input_tokens: self.cache_creation_input_tokens,
            cache_creation: self.cache_creation.as_ref().map(|c| CacheCreation {
                ephemeral_5m_input_tokens: c.ephemeral_5m_input_tokens,
                ephemeral_1h_input_tokens: c.ephemeral_1h_input_tokens,
            }),
            ..Usage::default()
        };
        anthropic_tokens(&usage, base, line)
    }

    fn into_owned(self) -> Iteration<'static> {
        Iteration {
            kind: self.kind.map(Label::into_owned),
            model: self.model.map(Label::into_owned),
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_read_input_tokens: self.cache_read_input_tokens,
            cache_creation_input_tokens: self.cache_creation_input_tokens,
            cache_creation: self.cache_creation,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Iterations<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Iterations<'a>, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Iterations<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of iteration usages")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Iterations<'a>, S::Error> {
                let mut all = Vec::new();
                while let Some(it) = seq.next_element::<Iteration<'a>>()? {
                    all.push(it);
                }
                Ok(Iterations(all))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Iterations<'a>, E> {
                Ok(Iterations::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Iterations<'a>, E> {
                Ok(Iterations::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Iterations<'a>, E> {
                Ok(Iterations::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Iterations<'a>, E> {
                Ok(Iterations::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Iterations<'a>, E> {
                Ok(Iterations::default())
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl Usage<'_> {
    pub fn into_owned(self) -> Usage<'static> {
        Usage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            prompt_tokens_details: self.prompt_tokens_details,
            completion_tokens_details: self.completion_tokens_details,
            total_tokens: self.total_tokens,
            prompt_cache_hit_tokens: self.prompt_cache_hit_tokens,
            prompt_cache_miss_tokens: self.prompt_cache_miss_tokens,
            billed_units: self.billed_units,
            bedrock_input: self.bedrock_input,
            bedrock_output: self.bedrock_output,
            bedrock_cache_read: self.bedrock_cache_read,
            bedrock_cache_write: self.bedrock_cache_write,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            input_tokens_details: self.input_tokens_details,
            output_tokens_details: self.output_tokens_details,
            input_token_details: self.input_token_details,
            output_token_details: self.output_token_details,
            cache_read_input_tokens: self.cache_read_input_tokens,
            cache_creation_input_tokens: self.cache_creation_input_tokens,
            cache_creation: self.cache_creation,
            server_tool_use: self.server_tool_use,
            service_tier: self.service_tier.map(Label::into_owned),
            speed: self.speed.map(Label::into_owned),
            inference_geo: self.inference_geo.map(Label::into_owned),
            iterations: Iterations(
                self.iterations
                    .0
                    .into_iter()
                    .map(Iteration::into_owned)
                    .collect(),
            ),
        }
    }

    /// The tier an Anthropic request is billed at: `service_tier`, except that a request served in fast
    /// mode (`speed` `fast`) bills at fast-mode rates whatever its tier: `fast`, which a price table
    /// must list for the request to be priced (never the standard rates).
    pub fn anthropic_tier(&self) -> Option<&str> {
        match nonempty(self.speed.as_ref()) {
            Some(speed) if speed.eq_ignore_ascii_case("fast") => Some("fast"),
            _ => nonempty(self.service_tier.as_ref()),
        }
    }

    /// The shape these keys belong to, when they say (`prompt_tokens`: OpenAI chat; cache keys: Anthropic;
    /// `input_tokens_details`: Responses). Bare `input_tokens`/`output_tokens` are ambiguous.
    pub fn shape(&self) -> Option<Shape> {
        if self.billed_units.is_some() {
            Some(Shape::Cohere)
        } else if self.bedrock_input.is_some() || self.bedrock_output.is_some() {
            Some(Shape::Bedrock)
        } else if self.prompt_tokens.is_some()
            || self.completion_tokens.is_some()
            || self.prompt_cache_hit_tokens.is_some()
            || self.prompt_tokens_details.is_some()
            || self.completion_tokens_details.is_some()
        {
            Some(Shape::OpenAiChat)
        } else if self.cache_read_input_tokens.is_some()
            || self.cache_creation_input_tokens.is_some()
            || self.cache_creation.is_some()
            || self.server_tool_use.is_some()
            || self.inference_geo.is_some()
            || self
                .output_tokens_details
                .as_ref()
                .is_some_and(|d| d.thinking_tokens.is_some())
        {
            Some(Shape::Anthropic)
        } else if self.input_tokens_details.is_some()
            || self.output_tokens_details.is_some()
            || self.input_token_details.is_some()
            || self.output_token_details.is_some()
        {
            Some(Shape::OpenAiResponses)
        } else {
            None
        }
    }
}

/// `prompt_tokens_details` (chat) / `input_tokens_details` (Responses).
#[derive(Debug, Default, Deserialize)]
pub struct InputDetails {
    pub cached_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    pub audio_tokens: Option<u64>,
}

/// OpenAI Realtime `usage.input_token_details`: `input_tokens` split by modality; `cached_tokens` is the
/// cached part of all of them, split in `cached_tokens_details`.
#[derive(Debug, Default, Deserialize)]
pub struct RealtimeInputDetails {
    pub audio_tokens: Option<u64>,
    pub image_tokens: Option<u64>,
    pub cached_tokens: Option<u64>,
    pub cached_tokens_details: Option<RealtimeCachedDetails>,
}

/// OpenAI Realtime `usage.input_token_details.cached_tokens_details`.
#[derive(Debug, Default, Deserialize)]
pub struct RealtimeCachedDetails {
    pub audio_tokens: Option<u64>,
    pub image_tokens: Option<u64>,
}

/// OpenAI Realtime `usage.output_token_details`: `output_tokens` split by modality.
#[derive(Debug, Default, Deserialize)]
pub struct RealtimeOutputDetails {
    pub audio_tokens: Option<u64>,
}

/// `completion_tokens_details` (chat) / `output_tokens_details` (Responses, Anthropic).
#[derive(Debug, Default, Deserialize)]
pub struct OutputDetails {
    pub reasoning_tokens: Option<u64>,
    pub audio_tokens: Option<u64>,
    /// Anthropic's name for reasoning.
    pub thinking_tokens: Option<u64>,
}

/// Cohere v2 `usage.billed_units`: the tokens Cohere charges for (fewer than `usage.tokens`, which also
/// counts its own prompt template).
#[derive(Debug, Default, Deserialize)]
pub struct BilledUnits {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

/// Cohere v2 chat `usage`: billed input and output tokens.
pub fn cohere_tokens(u: &Usage) -> TokenCounts {
    let billed = u.billed_units.as_ref();
    TokenCounts {
        input: billed.and_then(|b| b.input_tokens).unwrap_or(0),
        output: billed.and_then(|b| b.output_tokens).unwrap_or(0),
        ..TokenCounts::default()
    }
}

/// Bedrock Converse `usage`: input is already uncached; a cache write is the 5-minute class (as in
/// Bedrock's invocation logs).
pub fn bedrock_tokens(u: &Usage) -> TokenCounts {
    TokenCounts {
        input: u.bedrock_input.unwrap_or(0),
        cache_read: u.bedrock_cache_read.unwrap_or(0),
        cache_write_5m: u.bedrock_cache_write.unwrap_or(0),
        output: u.bedrock_output.unwrap_or(0),
        ..TokenCounts::default()
    }
}

/// Anthropic `cache_creation`: the split of `cache_creation_input_tokens` by cache lifetime.
#[derive(Debug, Default, Deserialize)]
pub struct CacheCreation {
    pub ephemeral_5m_input_tokens: Option<u64>,
    pub ephemeral_1h_input_tokens: Option<u64>,
}

/// Anthropic `server_tool_use`.
#[derive(Debug, Default, Deserialize)]
pub struct ServerToolUse {
    pub web_search_requests: Option<u64>,
    pub web_fetch_requests: Option<u64>,
    /// Not in the documented usage object; read when a log carries it.
    pub code_execution_requests: Option<u64>,
}

/// Built-in tool calls a response shows beside its usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolTally {
    /// OpenAI `web_search_call` items; Gemini `groundingMetadata.webSearchQueries`.
    pub web_search: u64,
    /// OpenAI `file_search_call` items.
    pub file_search: u64,
    /// OpenAI `code_interpreter_call` items; Anthropic `server_tool_use` blocks of the code execution tool.
    pub code_execution: u64,
    /// Gemini candidates with grounding metadata (one per response).
    pub grounded_prompts: u64,
}

impl ToolTally {
    fn add(&mut self, o: &ToolTally) {
        self.web_search = self.web_search.saturating_add(o.web_search);
        self.file_search = self.file_search.saturating_add(o.file_search);
        self.code_execution = self.code_execution.saturating_add(o.code_execution);
        self.grounded_prompts = self.grounded_prompts.max(o.grounded_prompts);
    }
}

/// The `visit_*` methods of a visitor whose value is `$t(None)` for anything but an object (the
/// object itself is read by the visitor's own `visit_map`).
macro_rules! anything_but_an_object_is_none {
    ($t:ident) => {
        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<$t, S::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($t(None))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$t, E> {
            Ok($t(None))
        }
        fn visit_unit<E: de::Error>(self) -> Result<$t, E> {
            Ok($t(None))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$t, E> {
            Ok($t(None))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$t, E> {
            Ok($t(None))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$t, E> {
            Ok($t(None))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$t, E> {
            Ok($t(None))
        }
    };
}

/// The web search tools of an OpenAI response's echoed `tools` array: `web_search` (and its dated
/// versions, `web_search_2025_08_26`) and the older `web_search_preview` (`web_search_preview_2025_03_11`).
/// Only each element's `type` is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeclaredTools {
    pub web_search: bool,
    pub web_search_preview: bool,
}

impl DeclaredTools {
    /// Searches of this response ran with `web_search_preview`: it is named and `web_search` is not.
    pub fn is_preview_only(&self) -> bool {
        self.web_search_preview && !self.web_search
    }
}

impl<'de> Deserialize<'de> for DeclaredTools {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DeclaredTools, D::Error> {
        /// One tool's `type`; anything but an object names none.
        struct Kind(Option<Label<'static>>);
        impl<'de> Deserialize<'de> for Kind {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Kind;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a tool")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
                        let mut kind = None;
                        // Keys borrowed from the input (a `Cow<str>` key is always a copy).
                        while let Some(key) = map.next_key::<Label>()? {
                            if key.as_str() == "type" {
                                kind = map.next_value::<Option<Label>>()?.map(Label::into_owned);
                            } else {
                                map.next_value::<IgnoredAny>()?;
                            }
                        }
                        Ok(Kind(kind))
                    }
                    anything_but_an_object_is_none!(Kind);
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DeclaredTools;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of tools")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<DeclaredTools, S::Error> {
                let mut out = DeclaredTools::default();
                while let Some(Kind(kind)) = seq.next_element()? {
                    match kind.as_ref().map(Label::as_str) {
                        Some(k) if k.starts_with("web_search_preview") => {
                            out.web_search_preview = true
                        }
                        Some(k) if k.starts_with("web_search") => out.web_search = true,
                        _ => {}
                    }
                }
                Ok(out)
            }
            // Null, a string or an object: no tools named.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DeclaredTools, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(DeclaredTools::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<DeclaredTools, E> {
                Ok(DeclaredTools::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<DeclaredTools, E> {
                Ok(DeclaredTools::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<DeclaredTools, E> {
                Ok(DeclaredTools::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<DeclaredTools, E> {
                Ok(DeclaredTools::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<DeclaredTools, E> {
                Ok(DeclaredTools::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<DeclaredTools, E> {
                Ok(DeclaredTools::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// The names Anthropic's code execution tool uses in `server_tool_use` blocks.
const CODE_EXECUTION_TOOLS: [&str; 3] = [
    "code_execution",
    "bash_code_execution",
    "text_editor_code_execution",
];

/// An `output` or `content` array, counted: each element's `type` (and `name`) is read, every other key
/// (all text) is skipped without being copied. Anything else than an array of objects counts nothing.
struct ToolItems(ToolTally);

impl<'de> Deserialize<'de> for ToolItems {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ToolItems, D::Error> {
        struct Item(Option<ToolKindSeen>);
        enum ToolKindSeen {
            WebSearch,
            FileSearch,
            CodeExecution,
        }
        impl<'de> Deserialize<'de> for Item {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Item, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Item;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("an output item or content block")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
                        let mut kind: Option<Label> = None;
                        let mut name: Option<Label> = None;
                        // Keys borrowed from the input (a `Cow<str>` key is always a copy).
                        while let Some(key) = map.next_key::<Label>()? {
                            match key.as_str() {
                                "type" => kind = map.next_value()?,
                                "name" => name = map.next_value()?,
                                _ => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        let name = name.as_ref().map(Label::as_str).unwrap_or_default();
                        Ok(Item(match kind.as_ref().map(Label::as_str) {
                            Some("web_search_call") => Some(ToolKindSeen::WebSearch),
                            Some("file_search_call") => Some(ToolKindSeen::FileSearch),
                            Some("code_interpreter_call") => Some(ToolKindSeen::CodeExecution),
                            Some("server_tool_use") if CODE_EXECUTION_TOOLS.contains(&name) => {
                                Some(ToolKindSeen::CodeExecution)
                            }
                            _ => None,
                        }))
                    }
                    anything_but_an_object_is_none!(Item);
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ToolItems;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of output items or content blocks")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<ToolItems, S::Error> {
                let mut tally = ToolTally::default();
                while let Some(Item(kind)) = seq.next_element()? {
                    let n = match kind {
                        Some(ToolKindSeen::WebSearch) => &mut tally.web_search,
                        Some(ToolKindSeen::FileSearch) => &mut tally.file_search,
                        Some(ToolKindSeen::CodeExecution) => &mut tally.code_execution,
                        None => continue,
                    };
                    *n = n.saturating_add(1);
                }
                Ok(ToolItems(tally))
            }
            // A string `content` (a plain text message), null, or anything else: no tools.
            fn visit_str<E: de::Error>(self, _: &str) -> Result<ToolItems, E> {
                Ok(ToolItems(ToolTally::default()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ToolItems, E> {
                Ok(ToolItems(ToolTally::default()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolItems, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ToolItems(ToolTally::default()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ToolItems, E> {
                Ok(ToolItems(ToolTally::default()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<ToolItems, E> {
                Ok(ToolItems(ToolTally::default()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ToolItems, E> {
                Ok(ToolItems(ToolTally::default()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ToolItems, E> {
                Ok(ToolItems(ToolTally::default()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Gemini `candidates`, counted: a candidate's `groundingMetadata.webSearchQueries` are the search
/// queries run; a response with grounding metadata is one grounded prompt. Nothing else is kept.
struct Grounding(ToolTally);

impl<'de> Deserialize<'de> for Grounding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Grounding, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Candidate {
            #[serde(default)]
            grounding_metadata: Option<Metadata>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Metadata {
            #[serde(default)]
            web_search_queries: Option<Vec<IgnoredAny>>,
        }
        let candidates: Option<Vec<Candidate>> = Option::deserialize(d)?;
        let mut tally = ToolTally::default();
        for m in candidates
            .into_iter()
            .flatten()
            .filter_map(|c| c.grounding_metadata)
        {
            let queries = m.web_search_queries.map_or(0, |q| q.len() as u64);
            tally.web_search = tally.web_search.max(queries);
            tally.grounded_prompts = 1;
        }
        Ok(Grounding(tally))
    }
}

/// Gemini / Vertex `usageMetadata`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata<'a> {
    /// Total prompt, cached tokens included.
    pub prompt_token_count: Option<u64>,
    pub cached_content_token_count: Option<u64>,
    pub candidates_token_count: Option<u64>,
    /// Billed as output on top of `candidatesTokenCount`.
    pub thoughts_token_count: Option<u64>,
    /// Billed as input.
    pub tool_use_prompt_token_count: Option<u64>,
    /// The prompt (cached tokens included) by modality: TEXT, IMAGE, VIDEO, AUDIO, DOCUMENT.
    pub prompt_tokens_details: Option<Vec<ModalityCount>>,
    /// The cached part of the prompt by modality.
    pub cache_tokens_details: Option<Vec<ModalityCount>>,
    /// The candidates by modality (an image model answers in IMAGE tokens).
    pub candidates_tokens_details: Option<Vec<ModalityCount>>,
    /// Vertex: `ON_DEMAND`, `ON_DEMAND_PRIORITY`, `ON_DEMAND_FLEX`, `PROVISIONED_THROUGHPUT`.
    #[serde(borrow)]
    pub traffic_type: Option<Label<'a>>,
}

impl UsageMetadata<'_> {
    pub fn into_owned(self) -> UsageMetadata<'static> {
        UsageMetadata {
            prompt_token_count: self.prompt_token_count,
            cached_content_token_count: self.cached_content_token_count,
            candidates_token_count: self.candidates_token_count,
            thoughts_token_count: self.thoughts_token_count,
            tool_use_prompt_token_count: self.tool_use_prompt_token_count,
            prompt_tokens_details: self.prompt_tokens_details,
            cache_tokens_details: self.cache_tokens_details,
            candidates_tokens_details: self.candidates_tokens_details,
            traffic_type: self.traffic_type.map(Label::into_owned),
        }
    }
}

/// One entry of Gemini's `…TokensDetails`: `{"modality": "AUDIO", "tokenCount": 1200}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModalityCount {
    pub modality: Option<String>,
    pub token_count: Option<u64>,
}

/// The tokens of `modality` in a `…TokensDetails` list (0 when absent).
fn modality_tokens(details: Option<&Vec<ModalityCount>>, modality: &str) -> u64 {
    details
        .into_iter()
        .flatten()
        .filter(|d| {
            d.modality
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(modality))
        })
        .filter_map(|d| d.token_count)
        .fold(0, u64::saturating_add)
}

/// The response shapes we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    OpenAiChat,
    OpenAiResponses,
    Anthropic,
    Gemini,
    /// Cohere's own v2 chat API (`usage.billed_units`); its OpenAI-compatible API answers as `OpenAiChat`.
    Cohere,
    /// Bedrock Converse responses (camelCase `usage.inputTokens`); the model is not in the response.
    Bedrock,
}

impl Shape {
    /// The provider that produces this shape natively.
    pub fn provider(self) -> Provider {
        match self {
            Shape::OpenAiChat | Shape::OpenAiResponses => Provider::OpenAI,
            Shape::Anthropic => Provider::Anthropic,
            Shape::Gemini => Provider::Google,
            Shape::Cohere => Provider::Cohere,
            Shape::Bedrock => Provider::Bedrock,
        }
    }

    /// The shape of a response: its own markers first (`object`, `type`, Gemini keys), then the provider
    /// named by the log (`hint`), then the usage keys. `None` when nothing tells.
    pub fn of(raw: &RawResponse, hint: Option<Provider>) -> Option<Shape> {
        match raw.object.as_ref().map(Label::as_str) {
            Some("chat.completion" | "chat.completion.chunk") => return Some(Shape::OpenAiChat),
            Some("response") => return Some(Shape::OpenAiResponses),
            _ => {}
        }
        if let Some("message" | "error") = raw.kind.as_ref().map(Label::as_str) {
            return Some(Shape::Anthropic);
        }
        if raw.usage_metadata.is_some() || raw.response_id.is_some() || raw.model_version.is_some()
        {
            return Some(Shape::Gemini);
        }
        match hint {
            Some(Provider::Anthropic) => return Some(Shape::Anthropic),
            Some(Provider::Google) => return Some(Shape::Gemini),
            _ => {}
        }
        let by_keys = raw.usage.as_deref().and_then(Usage::shape);
        match (by_keys, hint) {
            (Some(shape), _) => Some(shape),
            // The OpenAI family writes bare input_tokens/output_tokens only in the Responses API.
            (None, Some(Provider::OpenAI | Provider::Azure)) if raw.usage.is_some() => {
                Some(Shape::OpenAiResponses)
            }
            _ => None,
        }
    }
}

/// OpenAI chat `usage`: `prompt_tokens` includes cached, cache-write and audio tokens (cache write is taken
/// as a subset too: the reference marks it uncertain, and counting it twice would overcharge);
/// `completion_tokens` includes audio and reasoning.
pub fn openai_chat_tokens(u: &Usage, base: &str, line: u64) -> Result<TokenCounts, RecordError> {
    let d = u.prompt_tokens_details.as_ref();
    // DeepSeek: `prompt_cache_hit_tokens` is the cached part (newer responses also carry `cached_tokens`).
    let (cached, cached_field) = match (d.and_then(|d| d.cached_tokens), u.prompt_cache_hit_tokens)
    {
        (Some(c), _) => (c, "prompt_tokens_details.cached_tokens"),
        (None, Some(hit)) => (hit, "prompt_cache_hit_tokens"),
        (None, None) => (0, "prompt_tokens_details.cached_tokens"),
    };
    let written = d.and_then(|d| d.cache_write_tokens).unwrap_or(0);
    let audio_in = d.and_then(|d| d.audio_tokens).unwrap_or(0);
    let prompt = u.prompt_tokens.or_else(|| {
        u.prompt_cache_miss_tokens
            .map(|miss| miss.saturating_add(u.prompt_cache_hit_tokens.unwrap_or(0)))
    });
    let input = subtract(
        (prompt.unwrap_or(0), "prompt_tokens"),
        &[
            (cached, cached_field),
            (written, "prompt_tokens_details.cache_write_tokens"),
            (audio_in, "prompt_tokens_details.audio_tokens"),
        ],
        base,
        line,
    )?;
    let o = u.completion_tokens_details.as_ref();
    let audio_out = o.and_then(|o| o.audio_tokens).unwrap_or(0);
    let reasoning = o.and_then(|o| o.reasoning_tokens).unwrap_or(0);
    let completion = u.completion_tokens.unwrap_or(0);
    // xAI counts reasoning beside the completion: its total is prompt + completion + reasoning.
    let beside = reasoning > 0
        && u.total_tokens
            == Some(
                prompt
                    .unwrap_or(0)
                    .saturating_add(completion)
                    .saturating_add(reasoning),
            );
    // Otherwise completion = text output (reasoning inside it) + audio output.
    let inside: &[(u64, &str)] = if beside {
        &[(audio_out, "completion_tokens_details.audio_tokens")]
    } else {
        &[
            (audio_out, "completion_tokens_details.audio_tokens"),
            (reasoning, "completion_tokens_details.reasoning_tokens"),
        ]
    };
    let non_reasoning = subtract((completion, "completion_tokens"), inside, base, line)?;
    let output = non_reasoning.saturating_add(reasoning);
    Ok(TokenCounts {
        input,
        cache_read: cached,
        cache_write_5m: written,
        output,
        reasoning,
        audio_input: audio_in,
        audio_output: audio_out,
        ..TokenCounts::default()
    })
}

/// OpenAI Responses `usage`: `input_tokens` includes cached and cache-write tokens; `output_tokens`
/// includes reasoning. The Realtime API's `usage` has the same totals with `input_token_details` and
/// `output_token_details` instead: `input_tokens` = text + audio + image, `cached_tokens` the cached part of
/// all three (`cached_tokens_details`). Cached audio is the cached-audio class, taken out of the audio
/// input (never counted twice); cached text and image are cache read; audio output is taken out of
/// `output_tokens`.
pub fn openai_responses_tokens(
    u: &Usage,
    base: &str,
    line: u64,
) -> Result<TokenCounts, RecordError> {
    let d = u.input_tokens_details.as_ref();
    let rt = u.input_token_details.as_ref();
    let rt_cached = rt.and_then(|r| r.cached_tokens_details.as_ref());
    let (cached, cached_field) = match (d.and_then(|d| d.cached_tokens), rt) {
        (Some(c), _) => (c, "input_tokens_details.cached_tokens"),
        (None, Some(r)) => (
            r.cached_tokens.unwrap_or(0),
            "input_token_details.cached_tokens",
        ),
        (None, None) => (0, "input_tokens_details.cached_tokens"),
    };
    let written = d.and_then(|d| d.cache_write_tokens).unwrap_or(0);
    let cached_audio = rt_cached.and_then(|c| c.audio_tokens).unwrap_or(0);
    let cached_image = rt_cached.and_then(|c| c.image_tokens).unwrap_or(0);
    let audio_input = subtract(
        (
            rt.and_then(|r| r.audio_tokens).unwrap_or(0),
            "input_token_details.audio_tokens",
        ),
        &[(
            cached_audio,
            "input_token_details.cached_tokens_details.audio_tokens",
        )],
        base,
        line,
    )?;
    let image_input = subtract(
        (
            rt.and_then(|r| r.image_tokens).unwrap_or(0),
            "input_token_details.image_tokens",
        ),
        &[(
            cached_image,
            "input_token_details.cached_tokens_details.image_tokens",
        )],
        base,
        line,
    )?;
    // The cached text and image tokens (cached audio has its own rate).
    let cache_read = subtract(
        (cached, cached_field),
        &[(
            cached_audio,
            "input_token_details.cached_tokens_details.audio_tokens",
        )],
        base,
        line,
    )?;
    let input = subtract(
        (u.input_tokens.unwrap_or(0), "input_tokens"),
        &[
            (cached, cached_field),
            (written, "input_tokens_details.cache_write_tokens"),
            (audio_input, "input_token_details.audio_tokens"),
            (image_input, "input_token_details.image_tokens"),
        ],
        base,
        line,
    )?;
    let audio_output = u
        .output_token_details
        .as_ref()
        .and_then(|o| o.audio_tokens)
        .unwrap_or(0);
    let reasoning = u
        .output_tokens_details
        .as_ref()
        .and_then(|o| o.reasoning_tokens)
        .unwrap_or(0);
    let output = subtract(
        (u.output_tokens.unwrap_or(0), "output_tokens"),
        &[(audio_output, "output_token_details.audio_tokens")],
        base,
        line,
    )?;
    subtract(
        (output, "output_tokens"),
        &[(reasoning, "output_tokens_details.reasoning_tokens")],
        base,
        line,
    )?;
    Ok(TokenCounts {
        input,
        cache_read,
        cache_read_audio: cached_audio,
        cache_write_5m: written,
        output,
        reasoning,
        audio_input,
        audio_output,
        image_input,
        ..TokenCounts::default()
    })
}

/// Anthropic `usage` (Messages API, Claude Code logs): `input_tokens` is already uncached; cache reads and
/// writes are separate. `cache_creation_input_tokens` = 5m + 1h writes: the `cache_creation` split when
/// present (a remainder of the total beyond the split counts as 5m), else all of it as 5m.
pub fn anthropic_tokens(u: &Usage, base: &str, line: u64) -> Result<TokenCounts, RecordError> {
    let split = u.cache_creation.as_ref();
    let split_5m = split.and_then(|c| c.ephemeral_5m_input_tokens).unwrap_or(0);
    let split_1h = split.and_then(|c| c.ephemeral_1h_input_tokens).unwrap_or(0);
    let (cache_write_5m, cache_write_1h) = match u.cache_creation_input_tokens {
        Some(total) => {
            let remainder = subtract(
                (total, "cache_creation_input_tokens"),
                &[
                    (split_1h, "cache_creation.ephemeral_1h_input_tokens"),
                    (split_5m, "cache_creation.ephemeral_5m_input_tokens"),
                ],
                base,
                line,
            )?;
            (split_5m.saturating_add(remainder), split_1h)
        }
        None => (split_5m, split_1h),
    };
    let output = u.output_tokens.unwrap_or(0);
    let reasoning = u
        .output_tokens_details
        .as_ref()
        .and_then(|o| o.thinking_tokens)
        .unwrap_or(0);
    subtract(
        (output, "output_tokens"),
        &[(reasoning, "output_tokens_details.thinking_tokens")],
        base,
        line,
    )?;
    Ok(TokenCounts {
        input: u.input_tokens.unwrap_or(0),
        cache_read: u.cache_read_input_tokens.unwrap_or(0),
        cache_write_5m,
        cache_write_1h,
        output,
        reasoning,
        web_search_requests: u
            .server_tool_use
            .as_ref()
            .and_then(|s| s.web_search_requests)
            .unwrap_or(0),
        web_fetch_requests: u
            .server_tool_use
            .as_ref()
            .and_then(|s| s.web_fetch_requests)
            .unwrap_or(0),
        code_execution_calls: u
            .server_tool_use
            .as_ref()
            .and_then(|s| s.code_execution_requests)
            .unwrap_or(0),
        ..TokenCounts::default()
    })
}

/// Gemini `usageMetadata`: `promptTokenCount` includes cached tokens; thoughts are billed as output on top
/// of the candidates; tool-use prompt tokens are billed as input. By modality: uncached AUDIO prompt tokens
/// (`promptTokensDetails` AUDIO − `cacheTokensDetails` AUDIO) are audio input at the audio rate; TEXT,
/// IMAGE and VIDEO input share the input rate; AUDIO and IMAGE candidates are audio and image output.
/// Cached audio stays in cache read (the tables carry one cache rate).
pub fn gemini_tokens(m: &UsageMetadata, base: &str, line: u64) -> Result<TokenCounts, RecordError> {
    let cached = m.cached_content_token_count.unwrap_or(0);
    let audio_prompt = modality_tokens(m.prompt_tokens_details.as_ref(), "AUDIO");
    let audio_cached = modality_tokens(m.cache_tokens_details.as_ref(), "AUDIO");
    let audio_in = subtract(
        (audio_prompt, "promptTokensDetails[AUDIO]"),
        &[(audio_cached, "cacheTokensDetails[AUDIO]")],
        base,
        line,
    )?;
    let uncached = subtract(
        (m.prompt_token_count.unwrap_or(0), "promptTokenCount"),
        &[
            (cached, "cachedContentTokenCount"),
            (audio_in, "promptTokensDetails[AUDIO]"),
        ],
        base,
        line,
    )?;
    let candidates = m.candidates_token_count.unwrap_or(0);
    let audio_out = modality_tokens(m.candidates_tokens_details.as_ref(), "AUDIO");
    let image_out = modality_tokens(m.candidates_tokens_details.as_ref(), "IMAGE");
    let text_out = subtract(
        (candidates, "candidatesTokenCount"),
        &[
            (audio_out, "candidatesTokensDetails[AUDIO]"),
            (image_out, "candidatesTokensDetails[IMAGE]"),
        ],
        base,
        line,
    )?;
    let thoughts = m.thoughts_token_count.unwrap_or(0);
    Ok(TokenCounts {
        input: uncached.saturating_add(m.tool_use_prompt_token_count.unwrap_or(0)),
        cache_read: cached,
        audio_input: audio_in,
        output: text_out.saturating_add(thoughts),
        reasoning: thoughts,
        audio_output: audio_out,
        image_output: image_out,
        ..TokenCounts::default()
    })
}

/// `total` minus each part in turn; a part that takes the running total below zero is an error naming it.
/// Field names are relative to `base` (`usage`, `response.usage`, …).
pub fn subtract(
    total: (u64, &str),
    parts: &[(u64, &str)],
    base: &str,
    line: u64,
) -> Result<u64, RecordError> {
    let mut left = total.0;
    for (i, &(value, name)) in parts.iter().enumerate() {
        match left.checked_sub(value) {
            Some(rest) => left = rest,
            None => {
                let earlier: Vec<String> = parts[..i]
                    .iter()
                    .filter(|p| p.0 > 0)
                    .map(|p| format!("`{}` = {}", join(base, p.1), p.0))
                    .collect();
                let with = if earlier.is_empty() {
                    String::new()
                } else {
                    format!(" plus {}", earlier.join(" plus "))
                };
                let message = format!(
                    "`{}` = {value}{with} exceeds `{}` = {}: a part cannot be larger than its total",
                    join(base, name),
                    join(base, total.1),
                    total.0,
                );
                return Err(RecordError::field(line, join(base, name), message));
            }
        }
    }
    Ok(left)
}

/// `base.rest`, or `rest` when `base` is empty.
/// [`join`] without allocating for the paths of the usual lines (a raw response, or one in an envelope):
/// the path names a field only in an error, and building it for every line cost more than reading the
/// usage.
fn join_usual(base: &str, rest: &'static str) -> Cow<'static, str> {
    Cow::Borrowed(match (base, rest) {
        ("", rest) => rest,
        ("response", "usage") => "response.usage",
        ("response", "usageMetadata") => "response.usageMetadata",
        ("message", "usage") => "message.usage",
        ("response.message", "usage") => "response.message.usage",
        ("response.body", "usage") => "response.body.usage",
        _ => return Cow::Owned(join(base, rest)),
    })
}

pub fn join(base: &str, rest: &str) -> String {
    if base.is_empty() {
        rest.to_owned()
    } else {
        format!("{base}.{rest}")
    }
}

fn nonempty<'s>(label: Option<&'s Label<'_>>) -> Option<&'s str> {
    label.and_then(Label::nonempty)
}

/// Whether `line` has `"key":"value"` (compact or spaced JSON) anywhere, at any depth.
pub fn has_key_value(line: &[u8], key: &str, value: &str) -> bool {
    let quoted = format!("\"{key}\"");
    let mut rest = line;
    while let Some(i) = memchr::memmem::find(rest, quoted.as_bytes()) {
        rest = &rest[i + quoted.len()..];
        let after = rest.trim_ascii_start();
        if let Some(after) = after.strip_prefix(b":") {
            let after = after.trim_ascii_start();
            if let Some(v) = after.strip_prefix(b"\"") {
                if v.starts_with(value.as_bytes()) && v.get(value.len()) == Some(&b'"') {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether one JSON line looks like a raw provider response: an OpenAI chat completion (or chunk) or
/// Responses object, an Anthropic message with usage, or a Gemini response with `usageMetadata`.
pub fn looks_like_raw_response(line: &[u8]) -> bool {
    has_key_value(line, "object", "chat.completion")
        || has_key_value(line, "object", "chat.completion.chunk")
        || has_key_value(line, "object", "response")
        || (has_key_value(line, "type", "message") && common::has_key(line, "usage"))
        || common::has_key(line, "usageMetadata")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawResponse<'_> {
        common::parse_json(json.as_bytes(), 1).unwrap()
    }

    #[test]
    fn response_keys_by_name() {
        use ResponseKey as K;
        let kept = [
            ("id", K::Id),
            ("object", K::Object),
            ("type", K::Type),
            ("model", K::Model),
            ("created", K::Created),
            ("created_at", K::CreatedAt),
            ("createTime", K::CreateTime),
            ("service_tier", K::ServiceTier),
            ("usage", K::Usage),
            ("usageMetadata", K::UsageMetadata),
            ("modelVersion", K::ModelVersion),
            ("responseId", K::ResponseId),
            ("error", K::Error),
            ("body", K::Body),
            ("status_code", K::StatusCode),
            ("output", K::Output),
            ("content", K::Content),
            ("candidates", K::Candidates),
            ("message", K::Message),
            ("response", K::Response),
            ("tools", K::Tools),
        ];
        for (name, key) in kept {
            assert_eq!(ResponseKey::from_name(name.as_bytes()), Some(key), "{name}");
        }
        // Names of the same lengths, cases and near misses are skipped.
        for name in [
            "",
            "i",
            "ID",
            "ids",
            "kind",
            "Model",
            "usage_",
            "objects",
            "created_At",
            "usage_metadata",
            "responseid",
            "status",
            "choices",
            "modelVersio",
            "servicetier",
            "timestamp",
        ] {
            assert_eq!(ResponseKey::from_name(name.as_bytes()), None, "{name}");
        }
    }

    fn tokens(json: &str) -> Result<TokenCounts, RecordError> {
        let r = raw(json);
        let shape = Shape::of(&r, None).expect("shape");
        r.tokens(shape, "", 1)
    }

    #[test]
    fn openai_compatible_usage_of_deepseek_xai_and_cohere() {
        // DeepSeek: hit 40 + miss 10 = prompt 50; reasoning inside completion.
        let t = tokens(
            r#"{"object":"chat.completion","usage":{"prompt_tokens":50,"completion_tokens":30,"total_tokens":80,
            "prompt_cache_hit_tokens":40,"prompt_cache_miss_tokens":10,"completion_tokens_details":{"reasoning_tokens":22}}}"#,
        )
        .unwrap();
        assert_eq!(
            (t.input, t.cache_read, t.output, t.reasoning),
            (10, 40, 30, 22)
        );
        // xAI: total 25 = prompt 12 + completion 3 + reasoning 10: reasoning is beside the completion.
        let t = tokens(
            r#"{"object":"chat.completion","usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":25,
            "prompt_tokens_details":{"cached_tokens":10},"completion_tokens_details":{"reasoning_tokens":10}}}"#,
        )
        .unwrap();
        assert_eq!(
            (t.input, t.cache_read, t.output, t.reasoning),
            (2, 10, 13, 10)
        );
        // OpenAI: total 15 = 12 + 3: reasoning inside; more reasoning than completion is an error there.
        let e = tokens(
            r#"{"object":"chat.completion","usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,
            "completion_tokens_details":{"reasoning_tokens":10}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("usage.completion_tokens_details.reasoning_tokens")
        );
        // Cohere v2: billed units, not the template-inflated `tokens`.
        let r = raw(
            r#"{"id":"c1","usage":{"billed_units":{"input_tokens":50,"output_tokens":4},"tokens":{"input_tokens":57,"output_tokens":5}}}"#,
        );
        assert_eq!(Shape::of(&r, None), Some(Shape::Cohere));
        let t = r.tokens(Shape::Cohere, "", 1).unwrap();
        assert_eq!((t.input, t.output), (50, 4));
        assert_eq!(Shape::Cohere.provider(), Provider::Cohere);
    }

    #[test]
    fn openai_chat_subtracts_cached_write_and_audio() {
        let t = tokens(
            r#"{"id":"chatcmpl-1","object":"chat.completion","created":1791037325,"model":"gpt-4o",
            "choices":[{"message":{"content":"secret text"}}],
            "usage":{"prompt_tokens":120000,"completion_tokens":9500,"total_tokens":129500,
            "prompt_tokens_details":{"cached_tokens":48000,"cache_write_tokens":2000,"audio_tokens":1000},
            "completion_tokens_details":{"reasoning_tokens":4000,"audio_tokens":500}}}"#,
        )
        .unwrap();
        // 120_000 total − 48_000 cached − 2_000 written − 1_000 audio = 69_000 uncached
        assert_eq!(t.input, 69_000);
        assert_eq!(t.cache_read, 48_000);
        assert_eq!(t.cache_write_5m, 2_000);
        assert_eq!(t.audio_input, 1_000);
        // 9_500 completion − 500 audio = 9_000 output, of which 4_000 reasoning
        assert_eq!(t.output, 9_000);
        assert_eq!(t.reasoning, 4_000);
        assert_eq!(t.audio_output, 500);
        // Disjoint classes add back up to the provider's totals: 69_000 + 48_000 + 2_000 + 1_000 = 120_000
        assert_eq!(t.prompt_total(), 120_000);
        assert_eq!(t.total(), 129_500);
    }

    #[test]
    fn openai_chat_with_null_details() {
        let t = tokens(
            r#"{"object":"chat.completion","usage":{"prompt_tokens":10,"completion_tokens":5,
            "prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":null}}}"#,
        )
        .unwrap();
        assert_eq!(
            (t.input, t.output, t.cache_read, t.reasoning),
            (10, 5, 0, 0)
        );
    }

    #[test]
    fn openai_realtime_usage_splits_cached_audio_from_audio_input() {
        // The usage block of a Realtime `response.done` (OpenAI developer forum, "Help me understand the
        // realtime usage block"): 789 input = 313 text + 476 audio; 640 cached = 256 text + 384 audio.
        let t = tokens(
            r#"{"object":"realtime.response","id":"resp_1","status":"completed","usage":{"total_tokens":821,
            "input_tokens":789,"output_tokens":32,"input_token_details":{"text_tokens":313,"audio_tokens":476,
            "cached_tokens":640,"cached_tokens_details":{"text_tokens":256,"audio_tokens":384}},
            "output_token_details":{"text_tokens":9,"audio_tokens":23}}}"#,
        )
        .unwrap();
        // text: 789 − 640 cached − (476 − 384) uncached audio = 57 uncached (= 313 − 256); cached text 256
        assert_eq!((t.input, t.cache_read), (57, 256));
        // audio: 476 − 384 cached = 92 uncached; the 384 cached are their own class, not on top
        assert_eq!((t.audio_input, t.cache_read_audio), (92, 384));
        // output: 32 − 23 audio = 9 text
        assert_eq!((t.output, t.audio_output), (9, 23));
        assert_eq!(t.total(), 821);
        // more cached audio than audio is an error naming the field
        let e = tokens(
            r#"{"usage":{"input_tokens":10,"output_tokens":0,"input_token_details":{"audio_tokens":5,
            "cached_tokens":6,"cached_tokens_details":{"audio_tokens":6}}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("usage.input_token_details.cached_tokens_details.audio_tokens")
        );
    }

    #[test]
    fn web_search_calls_of_the_preview_tool_are_their_own_kind() {
        let response = |tools: &str| {
            format!(
                r#"{{"id":"resp_1","object":"response","created_at":1791037325,"model":"gpt-4o","tools":{tools},
                "output":[{{"type":"web_search_call","id":"ws_1","status":"completed"}},
                {{"type":"web_search_call","id":"ws_2","status":"completed"}},{{"type":"message","content":[]}}],
                "usage":{{"input_tokens":10,"output_tokens":5,"input_tokens_details":{{"cached_tokens":0}}}}}}"#
            )
        };
        let calls = |tools: &str| {
            let t = tokens(&response(tools)).unwrap();
            (t.web_search_requests, t.web_search_preview_calls)
        };
        assert_eq!(calls(r#"[{"type":"web_search_preview"}]"#), (0, 2));
        assert_eq!(
            calls(r#"[{"type":"web_search_preview_2025_03_11","search_context_size":"medium"}]"#),
            (0, 2)
        );
        assert_eq!(calls(r#"[{"type":"web_search"}]"#), (2, 0));
        // both named: the calls cannot be told apart; the GA tool is the one a new request uses
        assert_eq!(
            calls(r#"[{"type":"web_search"},{"type":"web_search_preview"}]"#),
            (2, 0)
        );
        assert_eq!(calls("[]"), (2, 0));
        assert_eq!(calls("null"), (2, 0));
        // a streamed response: the tools come in `response.created`, the items in `response.completed`
        let completed = response("[]");
        let mut raw = RawResponse::default();
        raw.merge(self::raw(r#"{"tools":[{"type":"web_search_preview"}]}"#));
        raw.merge(self::raw(&completed));
        let t = raw.tokens(Shape::OpenAiResponses, "", 1).unwrap();
        assert_eq!((t.web_search_requests, t.web_search_preview_calls), (0, 2));
    }

    #[test]
    fn openai_responses_subtracts_cached() {
        let t = tokens(
            r#"{"id":"resp_1","object":"response","created_at":1791037325,"model":"o4-mini",
            "output":[{"content":[{"text":"hidden"}]}],"status":"completed",
            "usage":{"input_tokens":5000,"input_tokens_details":{"cached_tokens":3000,"cache_write_tokens":500},
            "output_tokens":2000,"output_tokens_details":{"reasoning_tokens":1500},"total_tokens":7000}}"#,
        )
        .unwrap();
        // 5_000 total − 3_000 cached − 500 written = 1_500 uncached
        assert_eq!(t.input, 1_500);
        assert_eq!(t.cache_read, 3_000);
        assert_eq!(t.cache_write_5m, 500);
        // output 2_000 includes 1_500 reasoning: not added again
        assert_eq!((t.output, t.reasoning), (2_000, 1_500));
        assert_eq!(t.total(), 7_000);
    }

    #[test]
    fn anthropic_input_is_already_uncached_and_cache_write_splits() {
        let t = tokens(
            r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
            "content":[{"type":"text","text":"hi"}],
            "usage":{"input_tokens":1200,"cache_read_input_tokens":40000,"cache_creation_input_tokens":9000,
            "cache_creation":{"ephemeral_5m_input_tokens":3000,"ephemeral_1h_input_tokens":5000},
            "output_tokens":800,"output_tokens_details":{"thinking_tokens":300},
            "server_tool_use":{"web_search_requests":2},"service_tier":"priority","inference_geo":"us"}}"#,
        )
        .unwrap();
        // input_tokens is uncached already: nothing subtracted
        assert_eq!(t.input, 1_200);
        assert_eq!(t.cache_read, 40_000);
        // 9_000 written − 5_000 (1h) − 3_000 (5m) = 1_000 unsplit, counted as 5m: 3_000 + 1_000 = 4_000
        assert_eq!(t.cache_write_5m, 4_000);
        assert_eq!(t.cache_write_1h, 5_000);
        assert_eq!((t.output, t.reasoning), (800, 300));
        assert_eq!(t.web_search_requests, 2);
        let r = raw(
            r#"{"type":"message","usage":{"input_tokens":1,"service_tier":"priority","inference_geo":"us"}}"#,
        );
        assert_eq!(r.service_tier(Shape::Anthropic), Some("priority"));
        assert_eq!(r.region(), Some("us"));
    }

    #[test]
    fn anthropic_cache_write_without_split_is_5m() {
        let t = tokens(
            r#"{"type":"message","usage":{"input_tokens":10,"cache_creation_input_tokens":7000,"output_tokens":1}}"#,
        )
        .unwrap();
        // no split: all 7_000 written tokens at the 5-minute rate
        assert_eq!((t.cache_write_5m, t.cache_write_1h), (7_000, 0));
    }

    #[test]
    fn gemini_thoughts_on_top_of_candidates() {
        let r = raw(
            r#"{"candidates":[{"content":{"parts":[{"text":"secret"}]}}],"modelVersion":"gemini-2.5-pro",
            "responseId":"abc123","createTime":"2026-10-03T14:22:05.123456Z",
            "usageMetadata":{"promptTokenCount":10000,"cachedContentTokenCount":6000,"candidatesTokenCount":700,
            "thoughtsTokenCount":1300,"toolUsePromptTokenCount":250,"totalTokenCount":12250,
            "trafficType":"ON_DEMAND"}}"#,
        );
        let shape = Shape::of(&r, None).unwrap();
        assert_eq!(shape, Shape::Gemini);
        let t = r.tokens(shape, "", 1).unwrap();
        // 10_000 prompt − 6_000 cached + 250 tool-use prompt = 4_250 uncached input
        assert_eq!(t.input, 4_250);
        assert_eq!(t.cache_read, 6_000);
        // 700 candidates + 1_300 thoughts = 2_000 output, 1_300 of it reasoning
        assert_eq!((t.output, t.reasoning), (2_000, 1_300));
        assert_eq!(t.total(), 12_250);
        assert_eq!(r.service_tier(shape), Some("ON_DEMAND"));
        assert_eq!(r.model(), Some("gemini-2.5-pro"));
        assert_eq!(r.response_id(), Some("abc123"));
        assert!(r.timestamp().is_some());
    }

    #[test]
    fn parts_larger_than_totals_are_errors_naming_the_field() {
        let e = tokens(
            r#"{"object":"chat.completion","usage":{"prompt_tokens":40,"completion_tokens":1,
            "prompt_tokens_details":{"cached_tokens":50}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("usage.prompt_tokens_details.cached_tokens")
        );
        assert!(
            e.message.contains("exceeds `usage.prompt_tokens` = 40"),
            "{}",
            e.message
        );

        // 30 cached fits in 40, but 30 + 20 written does not
        let e = tokens(
            r#"{"object":"chat.completion","usage":{"prompt_tokens":40,
            "prompt_tokens_details":{"cached_tokens":30,"cache_write_tokens":20}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("usage.prompt_tokens_details.cache_write_tokens")
        );
        assert!(
            e.message
                .contains("plus `usage.prompt_tokens_details.cached_tokens` = 30"),
            "{}",
            e.message
        );

        let e = tokens(
            r#"{"object":"chat.completion","usage":{"prompt_tokens":1,"completion_tokens":10,
            "completion_tokens_details":{"reasoning_tokens":11}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("usage.completion_tokens_details.reasoning_tokens")
        );

        let e = tokens(r#"{"object":"response","usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":6}}}"#)
            .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("usage.input_tokens_details.cached_tokens")
        );

        let e = tokens(
            r#"{"type":"message","usage":{"cache_creation_input_tokens":10,
            "cache_creation":{"ephemeral_5m_input_tokens":8,"ephemeral_1h_input_tokens":8}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("usage.cache_creation.ephemeral_5m_input_tokens")
        );

        let r = raw(r#"{"usageMetadata":{"promptTokenCount":5,"cachedContentTokenCount":9}}"#);
        let e = r.tokens(Shape::Gemini, "response", 4).unwrap_err();
        assert_eq!(e.line, 4);
        assert_eq!(
            e.field.as_deref(),
            Some("response.usageMetadata.cachedContentTokenCount")
        );
    }

    #[test]
    fn counts_must_be_non_negative_integers() {
        for (json, field) in [
            (r#"{"usage":{"prompt_tokens":"12"}}"#, "usage.prompt_tokens"),
            (r#"{"usage":{"prompt_tokens":12.5}}"#, "usage.prompt_tokens"),
            (r#"{"usage":{"input_tokens":-1}}"#, "usage.input_tokens"),
            (
                r#"{"usage":{"prompt_tokens_details":{"cached_tokens":"3"}}}"#,
                "usage.prompt_tokens_details.cached_tokens",
            ),
            (
                r#"{"usageMetadata":{"thoughtsTokenCount":1.0}}"#,
                "usageMetadata.thoughtsTokenCount",
            ),
        ] {
            let e = common::parse_json::<RawResponse>(json.as_bytes(), 3).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{json}: {e}");
            assert_eq!(e.line, 3);
        }
    }

    #[test]
    fn shapes_from_markers_hints_and_usage_keys() {
        let shape = |json: &str, hint| Shape::of(&raw(json), hint);
        assert_eq!(
            shape(r#"{"object":"chat.completion.chunk"}"#, None),
            Some(Shape::OpenAiChat)
        );
        assert_eq!(
            shape(r#"{"object":"response"}"#, None),
            Some(Shape::OpenAiResponses)
        );
        assert_eq!(shape(r#"{"type":"message"}"#, None), Some(Shape::Anthropic));
        assert_eq!(
            shape(
                r#"{"type":"error","error":{"type":"overloaded_error"}}"#,
                None
            ),
            Some(Shape::Anthropic)
        );
        assert_eq!(shape(r#"{"responseId":"x"}"#, None), Some(Shape::Gemini));
        // an Azure (OpenAI-shaped) response is read as OpenAI chat
        assert_eq!(
            shape(r#"{"object":"chat.completion"}"#, Some(Provider::Azure)),
            Some(Shape::OpenAiChat)
        );
        assert_eq!(
            shape(r#"{"usage":{"prompt_tokens":1}}"#, None),
            Some(Shape::OpenAiChat)
        );
        assert_eq!(
            shape(
                r#"{"usage":{"input_tokens":1,"cache_read_input_tokens":0}}"#,
                None
            ),
            Some(Shape::Anthropic)
        );
        // bare input/output tokens: ambiguous unless the provider is named
        assert_eq!(
            shape(r#"{"usage":{"input_tokens":1,"output_tokens":1}}"#, None),
            None
        );
        assert_eq!(
            shape(
                r#"{"usage":{"input_tokens":1,"output_tokens":1}}"#,
                Some(Provider::OpenAI)
            ),
            Some(Shape::OpenAiResponses)
        );
        assert_eq!(
            shape(
                r#"{"usage":{"input_tokens":1,"output_tokens":1}}"#,
                Some(Provider::Anthropic)
            ),
            Some(Shape::Anthropic)
        );
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let r = raw(r#"{"id":"chatcmpl-1","model":"gpt\u002d4o","error":null}"#);
        assert!(matches!(
            r.id.as_ref().unwrap().0,
            Cow::Borrowed("chatcmpl-1")
        ));
        assert_eq!(r.model(), Some("gpt-4o"));
        assert!(!r.error.0);
        assert!(raw(r#"{"error":{"message":"rate limited"}}"#).error.0);
        assert!(!raw(r#"{"error":{}}"#).error.0);
    }

    #[test]
    fn raw_response_detection() {
        assert!(looks_like_raw_response(
            br#"{"id":"x","object": "chat.completion","usage":{}}"#
        ));
        assert!(looks_like_raw_response(
            br#"{"object":"response","usage":{}}"#
        ));
        assert!(looks_like_raw_response(
            br#"{"type":"message","usage":{"input_tokens":1}}"#
        ));
        assert!(looks_like_raw_response(br#"{"usageMetadata":{}}"#));
        assert!(!looks_like_raw_response(br#"{"object":"page","data":[]}"#));
        assert!(!looks_like_raw_response(
            br#"{"object":"chat.completions.list"}"#
        ));
        assert!(!looks_like_raw_response(br#"{"type":"message"}"#));
    }
}
