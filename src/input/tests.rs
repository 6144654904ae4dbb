//! The driver, tested the way ripgrep tests its searcher: one input is read every way the driver can read
//! it, and every way must give the same records and the same errors.

use std::io::Write;

use super::*;
use crate::sources::by_name;

/// What reading a text gave: its records and record errors, or the error that stopped the file.
type Outcome = std::result::Result<(Vec<UsageRecord>, Vec<RecordError>), String>;

/// Reads `text` every way the driver can (plain and gzip, in one member or two; with and without a byte
/// order mark; with `\n` and `\r\n` line endings; a head and chunks of 1 byte, of 7 bytes and of the
/// default sizes; chunks parsed one after another and in parallel) and asserts that all ways give the
/// same records and errors. [`ReadTester::outcome`] is that common result, for the caller's own checks.
pub(crate) struct ReadTester {
    source: &'static dyn Source,
    text: String,
}

impl ReadTester {
    pub(crate) fn new(source: &'static dyn Source, text: impl Into<String>) -> ReadTester {
        ReadTester {
            source,
            text: text.into(),
        }
    }

    /// Every way to read, with its name for failure messages. A text longer than the default head is
    /// also read with that head (which chooses the reader) and chunks of 1 and 7 bytes after it.
    fn ways(&self) -> Vec<(String, Tuning)> {
        let long = self.text.len() > HEAD_BYTES;
        let mut ways = Vec::new();
        for parallel in [false, true] {
            let threads = if parallel {
                "many threads"
            } else {
                "one thread"
            };
            for size in [1, 7, 0] {
                let tuning = match size {
                    0 => Tuning {
                        parallel,
                        ..Tuning::default()
                    },
                    n => Tuning {
                        head_bytes: n,
                        chunk_bytes: n,
                        parallel,
                    },
                };
                let size = if size == 0 {
                    "default".into()
                } else {
                    size.to_string()
                };
                ways.push((format!("chunks of {size}, {threads}"), tuning));
            }
            for size in [1, 7].into_iter().filter(|_| long) {
                let tuning = Tuning {
                    chunk_bytes: size,
                    parallel,
                    ..Tuning::default()
                };
                ways.push((
                    format!("the default head, then chunks of {size}, {threads}"),
                    tuning,
                ));
            }
        }
        ways
    }

    /// The texts that must read alike: as given, with `\r\n` line endings, and each without and with a byte
    /// order mark.
    fn texts(&self) -> Vec<(&'static str, Vec<u8>)> {
        let text = self.text.strip_prefix('\u{feff}').unwrap_or(&self.text);
        let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
        let mut texts = Vec::new();
        for (name, text) in [("as given", text.to_owned()), ("CRLF", crlf)] {
            let bom = [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat();
            texts.push((name, text.into_bytes()));
            texts.push((if name == "CRLF" { "CRLF, BOM" } else { "BOM" }, bom));
        }
        texts
    }

    /// `bytes` as they are, gzipped, and gzipped in two members (as `cat a.gz b.gz` makes).
    fn encodings(bytes: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
        let gzip = |part: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part).unwrap();
            e.finish().unwrap()
        };
        let half = bytes.len() / 2;
        vec![
            ("plain", bytes.to_vec()),
            ("gzip", gzip(bytes)),
            (
                "gzip in two members",
                [gzip(&bytes[..half]), gzip(&bytes[half..])].concat(),
            ),
        ]
    }

    fn read(&self, bytes: &[u8], tuning: Tuning) -> Outcome {
        Self::outcome_of(read_items(self.source, bytes, tuning))
    }

    /// [`ReadTester::read`] from a map of a file holding `bytes`.
    fn read_mapped(&self, bytes: &[u8], tuning: Tuning) -> Outcome {
        Self::outcome_of(read_items_mapped(self.source, bytes, tuning))
    }

    fn outcome_of(items: Result<Vec<Item>>) -> Outcome {
        let items = items.map_err(|e| e.to_string())?;
        let (mut records, mut errors) = (Vec::new(), Vec::new());
        for item in items {
            match item {
                Ok(r) => records.push(r),
                Err(e) => errors.push(e),
            }
        }
        Ok((records, errors))
    }

    /// Reads every way, asserts that all agree, and returns what they agree on.
    pub(crate) fn outcome(&self) -> Outcome {
        let want = self.read(self.text.as_bytes(), Tuning::default());
        for (text_name, text) in self.texts() {
            for (encoding, bytes) in Self::encodings(&text) {
                for (way, tuning) in self.ways() {
                    let got = self.read(&bytes, tuning);
                    assert_eq!(
                        got,
                        want,
                        "{}: {text_name}, {encoding}, {way} differs from the plain read",
                        self.source.name()
                    );
                    if encoding == "plain" {
                        let got = self.read_mapped(&bytes, tuning);
                        assert_eq!(
                            got,
                            want,
                            "{}: {text_name}, mapped, {way} differs from the plain read",
                            self.source.name()
                        );
                    }
                }
            }
        }
        want
    }
}

fn source(name: &str) -> &'static dyn Source {
    by_name(name).unwrap_or_else(|| panic!("no source {name}"))
}

fn lines_of(records: &[UsageRecord]) -> Vec<u64> {
    records.iter().map(|r| r.provenance.line).collect()
}

/// One API log response line; `pad` makes it as long as wanted (longer than any chunk).
fn api_line(id: &str, prompt: u64, pad: usize) -> String {
    format!(
        r#"{{"timestamp":"2026-10-03T14:22:05Z","note":"{}","response":{{"id":"{id}","object":"chat.completion","model":"gpt-4o-2024-08-06","usage":{{"prompt_tokens":{prompt},"completion_tokens":5}}}}}}"#,
        "x".repeat(pad)
    )
}

#[test]
fn lines_blank_lines_an_error_and_no_final_newline_read_alike_every_way() {
    // line 1: a record; 2: blank; 3: white space only; 4: a record of over 2 KiB; 5: not JSON;
    // 6: a record, with no new line after it.
    let text = format!(
        "{}\n\n   \t\n{}\n{{\"timestamp\": oops}}\n{}",
        api_line("a", 100, 0),
        api_line("b", 200, 2 * 1024),
        api_line("c", 300, 3),
    );
    let (records, errors) = ReadTester::new(source("api-log"), text).outcome().unwrap();
    assert_eq!(lines_of(&records), vec![1, 4, 6]);
    let prompts: Vec<u64> = records.iter().map(|r| r.tokens.input).collect();
    assert_eq!(prompts, vec![100, 200, 300]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 5);
    assert!(
        errors[0].message.starts_with("not valid JSON"),
        "{}",
        errors[0].message
    );
}

#[test]
fn ordered_lines_keep_their_state_across_chunks() {
    // Codex: the model comes from the turn_context line, the usage from a later token_count line.
    let text = concat!(
        r#"{"timestamp":"2026-10-14T09:00:00Z","type":"session_meta","payload":{"id":"s-1","cwd":"/home/me/src/ranker"}}"#,
        "\n",
        r#"{"timestamp":"2026-10-14T09:00:01Z","type":"turn_context","payload":{"model":"gpt-5-codex"}}"#,
        "\n\n",
        r#"{"timestamp":"2026-10-14T09:00:02Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":1000,"cached_input_tokens":400,"output_tokens":50,"reasoning_output_tokens":0,"total_tokens":1050},"last_token_usage":{"input_tokens":1000,"cached_input_tokens":400,"output_tokens":50,"reasoning_output_tokens":0,"total_tokens":1050}}}}"#,
        "\n",
    );
    let (records, errors) = ReadTester::new(source("codex"), text).outcome().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(lines_of(&records), vec![4]);
    assert_eq!(records[0].model, "gpt-5-codex");
    assert_eq!(records[0].project.as_deref(), Some("ranker"));
    // 1_000 input including 400 cached: 600 uncached
    assert_eq!(
        (records[0].tokens.input, records[0].tokens.cache_read),
        (600, 400)
    );
}

#[test]
fn a_source_with_several_layouts_reads_each_alike_every_way() {
    // LiteLLM: JSON lines, a JSON array, CSV; the reader is chosen by the head, even a 1-byte one.
    let row = |id: &str, spend: &str| {
        format!(
            r#"{{"request_id":"{id}","call_type":"acompletion","spend":{spend},"startTime":"2026-10-05T10:00:00Z","model":"gpt-4o","custom_llm_provider":"openai","prompt_tokens":10,"completion_tokens":2}}"#
        )
    };
    let lines = format!("{}\n{}\n", row("r1", "0.25"), row("r2", "\"x\""));
    let (records, errors) = ReadTester::new(source("litellm"), lines).outcome().unwrap();
    assert_eq!(lines_of(&records), vec![1]);
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2]);

    let array = format!("[\n{},\n{}\n]\n", row("r1", "0.25"), row("r2", "0.5"));
    let (records, errors) = ReadTester::new(source("litellm"), array).outcome().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(lines_of(&records), vec![2, 3]);

    let csv = "request_id,call_type,spend,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens\n\
               r1,acompletion,0.25,2026-10-05T10:00:00Z,gpt-4o,openai,10,2\n\
               r2,acompletion,0.5,2026-10-05T10:01:00Z,gpt-4o,openai,20,4\n";
    let (records, errors) = ReadTester::new(source("litellm"), csv).outcome().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(lines_of(&records), vec![2, 3]);
}

#[test]
fn a_document_and_its_errors_read_alike_every_way() {
    let page = r#"{"object":"page","data":[{"object":"bucket","start_time":1755648000,"end_time":1755734400,"results":[
 {"object":"organization.usage.completions.result","input_tokens":100,"output_tokens":5,"num_model_requests":1,"model":"gpt-4o"},
 {"object":"organization.usage.completions.result","input_tokens":"many","output_tokens":5,"num_model_requests":1,"model":"gpt-4o"}]}]}
"#;
    let (records, errors) = ReadTester::new(source("openai-usage"), page)
        .outcome()
        .unwrap();
    assert_eq!(lines_of(&records), vec![2]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 3);
    assert_eq!(
        errors[0].field.as_deref(),
        Some("data[0].results[1].input_tokens")
    );
    let broken = ReadTester::new(source("openai-usage"), "{\"data\": [\n").outcome();
    assert!(broken.unwrap_err().contains("not valid JSON"));
}

/// Every file under `fixtures/`, in name order.
fn fixture_files() -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
        .sort_by_file_name()
        .into_iter()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

#[test]
fn every_fixture_reads_alike_every_way() {
    let mut read = 0;
    for path in fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        let mut text = Vec::new();
        let last = Arc::new(AtomicU16::new(NO_BYTE));
        decode(Box::new(io::Cursor::new(bytes)), &last)
            .unwrap()
            .read_to_end(&mut text)
            .unwrap();
        // Chunks of one byte make large files slow to read in a debug build; the demo data is large.
        let Ok(text) = String::from_utf8(text) else {
            continue;
        };
        if text.len() > 64 * 1024 {
            continue;
        }
        let head = text.as_bytes().get(..HEAD_BYTES).unwrap_or(text.as_bytes());
        let Some(source) = sources::detect(&path, head) else {
            continue;
        };
        ReadTester::new(source, text).outcome().ok();
        read += 1;
    }
    assert!(read > 40, "only {read} fixtures were read");
}

#[test]
fn the_byte_order_mark_is_taken_off_before_detection() {
    let csv = b"\xEF\xBB\xBFdate,meterCategory,meterName,costInBillingCurrency\n2026-10-01,Cognitive Services,gpt-4o Input Tokens,1.5\n";
    let summary = read_bytes(
        "costs.csv",
        csv,
        ReadOptions::default(),
        &mut Collect(Vec::new()),
    );
    assert_eq!(summary.unwrap().files[0].source, "azure-cost");
}

#[test]
fn crlf_becomes_lf_whatever_the_buffer_boundaries() {
    let text = b"a,b\r\n1,2\r\r\n\rx\r\n\r";
    // Every `\r\n` loses its `\r`; a lone `\r`, and one at the very end, stay.
    let want = b"a,b\n1,2\r\n\rx\n\r".to_vec();
    for capacity in [1, 2, 3, 5, 64] {
        for out_size in [1, 2, 7, 64] {
            let inner = BufReader::with_capacity(capacity, &text[..]);
            let mut lf = Lf { inner, cr: false };
            let (mut got, mut buf) = (Vec::new(), vec![0u8; out_size]);
            loop {
                let n = lf.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, want, "buffer {capacity}, reads of {out_size}");
        }
    }
}

/// A sink that keeps what it is given.
struct Collect(Vec<UsageRecord>);

impl RecordSink for Collect {
    fn accept(&mut self, record: UsageRecord) -> Result<Accepted> {
        self.0.push(record);
        Ok(Accepted::Added)
    }
}

/// An Anthropic stream event in an envelope, with `request_id` when `key` is not empty.
fn anthropic_event(key: &str, event: &str) -> String {
    let key = if key.is_empty() {
        String::new()
    } else {
        format!(r#""request_id":"{key}","#)
    };
    format!(
        r#"{{"timestamp":"2026-10-20T08:02:00Z",{key}"provider":"anthropic","response":{event}}}"#
    )
}

fn message_start(key: &str, id: &str, input: u64) -> String {
    let event = format!(
        r#"{{"type":"message_start","message":{{"id":"{id}","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","usage":{{"input_tokens":{input},"cache_read_input_tokens":10000,"output_tokens":1}}}}}}"#
    );
    anthropic_event(key, &event)
}

fn message_delta(key: &str, usage: &str) -> String {
    let event = format!(
        r#"{{"type":"message_delta","delta":{{"stop_reason":"end_turn","stop_sequence":null}},"usage":{usage}}}"#
    );
    anthropic_event(key, &event)
}

fn chat_chunk(usage: &str) -> String {
    format!(
        r#"{{"id":"chatcmpl-S1","object":"chat.completion.chunk","created":1792483320,"model":"gpt-4o-mini","choices":[{{"index":0,"delta":{{"content":"CONFIDENTIAL"}}}}],"usage":{usage}}}"#
    )
}

fn gemini_chunk(candidates: u64) -> String {
    format!(
        r#"{{"timestamp":"2026-10-20T08:03:00Z","response":{{"candidates":[{{"content":{{"parts":[{{"text":"x"}}],"role":"model"}},"index":0}}],"usageMetadata":{{"promptTokenCount":1000,"candidatesTokenCount":{candidates}}},"modelVersion":"gemini-2.5-flash","responseId":"g-S1"}}}}"#
    )
}

#[test]
fn streams_past_the_head_and_across_chunks_count_once_every_way() {
    // Plain responses fill more than the head that chooses the reader, so the streams begin past it, in
    // chunks parsed apart (and in parallel); two Anthropic streams are logged interleaved (told apart by
    // `request_id`), among plain responses, a chat chunk stream and Gemini chunks.
    let mut lines = Vec::new();
    while lines.iter().map(|l: &String| l.len() + 1).sum::<usize>() <= HEAD_BYTES {
        lines.push(api_line(&format!("p{}", lines.len()), 10, 200));
    }
    let plain = lines.len() as u64;
    let first = plain + 1;
    lines.extend([
        message_start("req_A", "msg_A", 2000),                                   // first
        api_line("q1", 20, 0),                                                   // +1
        message_start("req_B", "msg_B", 3000),                                   // +2
        anthropic_event("req_A", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"CONFIDENTIAL"}}"#), // +3
        message_delta("req_B", r#"{"output_tokens":70,"server_tool_use":{"web_search_requests":2}}"#), // +4
        chat_chunk("null"),                                                      // +5
        chat_chunk("null"),                                                      // +6
        message_delta("req_A", r#"{"output_tokens":400}"#),                     // +7
        message_start("", "msg_C", 500),                                         // +8
        anthropic_event("", r#"{"type":"ping"}"#),                              // +9
        api_line("q2", 30, 0),                                                   // +10
        message_delta("", r#"{"output_tokens":9}"#),                            // +11
        chat_chunk(r#"{"prompt_tokens":500,"completion_tokens":50}"#),          // +12
        gemini_chunk(10),                                                        // +13
        gemini_chunk(80),                                                        // +14
        gemini_chunk(150),                                                       // +15
        message_start("req_D", "msg_D", 700),                                    // +16, cut short
        api_line("q3", 40, 0),                                                   // +17
    ]);
    let text = lines.join("\n") + "\n";
    let (records, errors) = ReadTester::new(source("api-log"), text).outcome().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let streams: Vec<_> = records
        .iter()
        .filter(|r| !r.id.starts_with("openai:p"))
        .map(|r| {
            let t = &r.tokens;
            let line = r.provenance.line - first;
            (
                r.id.as_str(),
                line,
                t.input,
                t.cache_read,
                t.output,
                t.web_search_requests,
            )
        })
        .collect();
    assert_eq!(records.len() - streams.len(), plain as usize);
    assert_eq!(
        streams,
        vec![
            ("openai:q1", 1, 20, 0, 5, 0),
            // completed by its message_delta (line +4): 3_000 in, 10_000 cache read, 70 out, 2 searches
            ("anthropic:msg_B", 2, 3000, 10000, 70, 2),
            // its message_delta came after B's: 2_000 in, 10_000 cache read, 400 out
            ("anthropic:msg_A", 0, 2000, 10000, 400, 0),
            ("openai:q2", 10, 30, 0, 5, 0),
            ("anthropic:msg_C", 8, 500, 10000, 9, 0),
            // the include_usage chunk: 500 in, 50 out
            ("openai:chatcmpl-S1", 12, 500, 0, 50, 0),
            // each Gemini chunk repeats the response id with growing usage: the sink keeps the largest
            ("google:g-S1", 13, 1000, 0, 10, 0),
            ("google:g-S1", 14, 1000, 0, 80, 0),
            ("google:g-S1", 15, 1000, 0, 150, 0),
            ("openai:q3", 17, 40, 0, 5, 0),
            // cut short: the message_start's own usage, handed on at the end of the file
            ("anthropic:msg_D", 16, 700, 10000, 1, 0),
        ]
    );
}

#[test]
fn a_message_delta_without_its_start_is_an_error_every_way() {
    let mut lines = Vec::new();
    while lines.iter().map(|l: &String| l.len() + 1).sum::<usize>() <= HEAD_BYTES {
        lines.push(api_line(&format!("p{}", lines.len()), 10, 200));
    }
    let at = lines.len() as u64 + 1;
    lines.push(message_delta("", r#"{"output_tokens":9}"#));
    let (_, errors) = ReadTester::new(source("api-log"), lines.join("\n"))
        .outcome()
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, at);
    assert!(
        errors[0].message.contains("without the message_start"),
        "{}",
        errors[0].message
    );
}

/// Reads `paths` with `read_inputs` (invalid records skipped): the records in the order handed on, and
/// the file summaries.
fn read_paths(paths: &[PathBuf]) -> (Vec<UsageRecord>, Vec<FileSummary>, Vec<String>) {
    let mut sink = Collect(Vec::new());
    let options = ReadOptions {
        skip_invalid: true,
        ..ReadOptions::default()
    };
    let summary = read_inputs(paths, options, &mut sink, &mut |_| {}).unwrap();
    (sink.0, summary.files, summary.unrecognised)
}

#[test]
fn a_folder_of_small_files_reads_as_its_files_one_by_one() {
    // More files than the workers may read ahead, of every kind the parallel path passes on or takes: Claude Code
    // logs (the same message in two files, a bad line), API logs, a gzipped log, a log with a byte
    // order mark and no final new line, an empty file, a pretty-printed document, an unrecognised file,
    // and the fixture trees.
    let dir = tempfile::tempdir().unwrap();
    let cc = |id: &str, out: u64| {
        format!(
            r#"{{"type":"assistant","sessionId":"s","timestamp":"2026-10-03T14:22:05Z","requestId":"r{id}","message":{{"id":"m{id}","model":"claude-sonnet-4-5","usage":{{"input_tokens":3,"output_tokens":{out}}}}}}}"#
        )
    };
    for i in 0..45 {
        let path = dir.path().join(format!("{i:03}.jsonl"));
        let text = match i % 9 {
            0 => format!("{}\n{}\n", cc(&i.to_string(), 10), cc("shared", 5 + i)),
            1 => format!("{}\nnot json\n{}\n", api_line(&format!("a{i}"), 100, 0), api_line("dup", 7, 3)),
            2 => String::new(),
            3 => "{\n  \"id\": \"chatcmpl-1\", \"object\": \"chat.completion\", \"created\": 1790812812,\n  \"model\": \"gpt-4o\", \"usage\": {\"prompt_tokens\": 4, \"completion_tokens\": 2}\n}\n".to_string(),
            4 => "just some notes\n".to_string(),
            5 => format!("\u{feff}{}\n{}", cc(&format!("b{i}"), 1), cc("shared", 2)),
            // An Anthropic stream after the head (read in order among lines parsed on their own), and
            // one cut short at the end of the file.
            7 | 8 => {
                let mut text: String = (0..70)
                    .map(|n| api_line(&format!("p{i}-{n}"), n, 1000) + "\n")
                    .collect();
                text += &(message_start("k", &format!("msg_{i}"), 5) + "\n");
                text += &(api_line(&format!("q{i}"), 3, 0) + "\n");
                if i % 9 == 7 {
                    text += &(message_delta("k", r#"{"output_tokens":42}"#) + "\n");
                }
                text
            }
            _ => format!("{}\n", api_line(&format!("c{i}"), 10 * i, i as usize)),
        };
        if i % 9 == 6 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text.as_bytes()).unwrap();
            std::fs::write(path.with_extension("jsonl.gz"), gz.finish().unwrap()).unwrap();
        } else {
            std::fs::write(path, text).unwrap();
        }
    }
    let fixtures = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/claude-code"));
    let together = read_paths(&[dir.path().to_path_buf(), fixtures.clone()]);
    let mut files: Vec<PathBuf> = Vec::new();
    for root in [dir.path().to_path_buf(), fixtures] {
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry.unwrap();
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            if entry.file_type().is_file() && !hidden {
                files.push(entry.into_path());
            }
        }
    }
    assert!(files.len() > AHEAD.items, "{} files", files.len());
    let (mut records, mut summaries, mut unrecognised) = (Vec::new(), Vec::new(), Vec::new());
    for file in &files {
        // A file named on its own is read alone, the ordinary way; an unrecognised one is then an
        // error, which reading the folder lists instead.
        let mut sink = Collect(Vec::new());
        let options = ReadOptions {
            skip_invalid: true,
            ..ReadOptions::default()
        };
        let alone = Input {
            path: file.clone(),
            explicit: false,
        };
        let mut summary = ReadSummary::default();
        let last = Arc::new(AtomicU16::new(NO_BYTE));
        let reader = open(file, None, &last, None).unwrap();
        let opened = Opened {
            input: &alone,
            name: display(file),
            rest: Rest::Read(reader),
            last,
        };
        read_opened(opened, &options, &mut sink, &mut summary).unwrap();
        records.extend(sink.0);
        summaries.extend(summary.files);
        unrecognised.extend(summary.unrecognised);
    }
    assert_eq!(together.2, unrecognised);
    assert_eq!(together.1, summaries);
    assert_eq!(together.0.len(), records.len());
    assert_eq!(together.0, records);
    assert!(records.len() > 40 && summaries.iter().any(|s| s.skipped > 0));
    // The streams' message_delta completed its message_start: 42 output tokens, not 1.
    assert!(records.iter().any(|r| r.tokens.output == 42));
}

#[test]
fn a_small_file_read_whole_numbers_its_lines_as_the_chunked_reader() {
    // The line after a small file's last (where a grown file is read on from) is one past its last new
    // line, whether or not the file ends with one; its buffer is reused by the next file.
    let dir = tempfile::tempdir().unwrap();
    let line = |id: &str| api_line(id, 5, 0);
    let cases = [
        (format!("{}\n{}\n", line("a"), line("b")), 3),
        (format!("{}\n\n{}", line("c"), line("d")), 3),
        (format!("\u{feff}{}\r\n", line("e")), 2),
        (line("f"), 1),
    ];
    for (i, (text, next_line)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{i}.jsonl"));
        std::fs::write(&path, text).unwrap();
        let input = Input {
            path,
            explicit: false,
        };
        for policy in [MapPolicy::Never, MapPolicy::Always] {
            let small =
                SmallFile::read(&input, &ReadOptions::default(), None, None, policy).unwrap();
            assert_eq!(small.next_line, *next_line, "case {i}, {policy:?}");
            assert_eq!(small.bytes, text.len() as u64, "case {i}, {policy:?}");
            let records: usize = small.results.iter().map(|r| r.records.len()).sum();
            assert_eq!(
                records,
                text.matches("chat.completion").count(),
                "case {i}, {policy:?}"
            );
        }
    }
}

/// What reading one file with [`read_one`] gave, through `rest`: the records, the summaries (or the
/// error that stopped it), and the hash of the raw bytes read.
fn read_one_way(path: &Path, rest: Rest<'_>, last: Arc<AtomicU16>) -> (Outcome, Vec<FileSummary>) {
    let input = Input {
        path: path.to_path_buf(),
        explicit: false,
    };
    let mut sink = Collect(Vec::new());
    let options = ReadOptions {
        skip_invalid: true,
        ..ReadOptions::default()
    };
    let mut summary = ReadSummary::default();
    let opened = Opened {
        input: &input,
        name: display(path),
        rest,
        last,
    };
    let read = read_opened(opened, &options, &mut sink, &mut summary);
    let outcome = read
        .map(|()| (sink.0, Vec::new()))
        .map_err(|e| e.to_string());
    (outcome, summary.files)
}

/// [`read_one`] of an opened file, with the default tuning and no cache.
fn read_opened(
    opened: Opened<'_>,
    options: &ReadOptions,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
) -> Result<()> {
    read_one(
        opened,
        options,
        Tuning::default(),
        sink,
        summary,
        &mut |_| {},
        None,
    )
}

/// The small-file reader's result, for comparing two reads.
fn small_outcome(small: Option<SmallFile>) -> Option<(Vec<Item>, u64, u64, bool, u16)> {
    small.map(|s| {
        let last = s.last.load(Ordering::Relaxed);
        let items = s
            .results
            .into_iter()
            .flat_map(|r| {
                let errors = r.errors.into_iter().map(Err);
                errors.chain(r.records.into_iter().map(Ok))
            })
            .collect();
        (items, s.bytes, s.next_line, s.in_order, last)
    })
}

#[test]
fn every_fixture_reads_alike_mapped_and_read() {
    // Each fixture through a map and through a reader, the way a large file is read and the way a small
    // one is: the same records, summaries, last byte and hash of the raw bytes.
    let mut mapped = 0;
    for path in fixture_files() {
        let path = path.as_path();
        let name = path.display().to_string();
        let Some(map) = map_file(path, MapPolicy::Always) else {
            // Gzipped, or empty.
            continue;
        };
        mapped += 1;
        let hashes = [SharedHasher::default(), SharedHasher::default()];
        let lasts = [
            Arc::new(AtomicU16::new(NO_BYTE)),
            Arc::new(AtomicU16::new(NO_BYTE)),
        ];
        let reader = open(path, None, &lasts[0], Some(hashes[0].clone())).unwrap();
        let read = read_one_way(path, Rest::Read(reader), lasts[0].clone());
        let rest = Rest::Mapped(Mapped::new(
            &map,
            Some(hashes[1].clone()),
            None,
            lasts[1].clone(),
        ));
        let through_map = read_one_way(path, rest, lasts[1].clone());
        assert_eq!(read, through_map, "{name}");
        if read.1.first().is_some_and(|f| !f.empty) {
            assert_eq!(digest(&hashes[0]), digest(&hashes[1]), "{name}");
            assert_eq!(
                lasts[0].load(Ordering::Relaxed),
                lasts[1].load(Ordering::Relaxed),
                "{name}"
            );
        }
        let input = Input {
            path: path.to_path_buf(),
            explicit: false,
        };
        let options = ReadOptions::default();
        let small = |policy| {
            let hasher = SharedHasher::default();
            let small = SmallFile::read(&input, &options, None, Some(hasher.clone()), policy);
            (small_outcome(small), digest(&hasher))
        };
        let (read, through_map) = (small(MapPolicy::Never), small(MapPolicy::Always));
        if read.0.is_some() {
            assert_eq!(read, through_map, "{name}, read whole");
        } else {
            assert!(through_map.0.is_none(), "{name}, read whole");
        }
    }
    assert!(mapped > 100, "only {mapped} fixtures were mapped");
}

/// A file of API log lines of about `bytes` bytes.
fn api_log(bytes: usize) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < bytes {
        text += &(api_line(&format!("t{n}"), n, 100) + "\n");
        n += 1;
    }
    text
}

/// Cuts the file at `path` to `len` bytes, as another process truncating it would.
fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn a_file_truncated_under_its_map_fails_cleanly_whatever_it_is_read_by() {
    // Mapped, then cut short before it is read: the pages past the new end fault (SIGBUS), read as
    // zeros, and the file fails with an error saying what happened, handing on nothing read from them.
    let dir = tempfile::tempdir().unwrap();
    let document = "{\n  \"id\": \"chatcmpl-1\", \"object\": \"chat.completion\", \"created\": 1790812812,\n  \"model\": \"gpt-4o\", \"usage\": {\"prompt_tokens\": 4, \"completion_tokens\": 2}\n}\n";
    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/azure-cost/cost-export-ea.csv"
    ))
    .unwrap();
    let (header, rows) = csv.split_once('\n').unwrap();
    let texts = [
        ("jsonl", api_log(300_000)),
        ("json", format!("{}{document}", " ".repeat(300_000))),
        (
            "csv",
            format!("{header}\n{}", rows.repeat(300_000 / rows.len() + 1)),
        ),
    ];
    for (kind, text) in &texts {
        // Cut at nothing, inside the head, at a page boundary past the head, inside a page past it.
        for cut in [0, 100, 65_536 + 4096 * 3, 65_536 + 4096 * 20 + 17] {
            let path = dir.path().join(format!("{cut}.{kind}"));
            std::fs::write(&path, text).unwrap();
            let map = map_file(&path, MapPolicy::Always).unwrap();
            truncate(&path, cut);
            let last = Arc::new(AtomicU16::new(NO_BYTE));
            let rest = Rest::Mapped(Mapped::new(&map, None, None, last.clone()));
            let (outcome, summaries) = read_one_way(&path, rest, last);
            assert_eq!(
                outcome,
                Err(format!(
                    "{}: the file shrank while it was being read; run again",
                    path.display()
                )),
                "{kind}, cut at {cut}"
            );
            assert!(summaries.is_empty(), "{kind}, cut at {cut}");
            // Read again, as the error says, it reads as it now is.
            drop(map);
            let last = Arc::new(AtomicU16::new(NO_BYTE));
            let rest = match map_file(&path, MapPolicy::Always) {
                Some(_) => continue,
                None => Rest::Read(open(&path, None, &last, None).unwrap()),
            };
            let (again, _) = read_one_way(&path, rest, last);
            assert!(cut > 0 || again.is_ok(), "{kind}: {again:?}");
        }
    }
}

#[test]
fn a_small_file_truncated_under_its_map_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let text = api_log(200_000);
    for cut in [0, 5000, 4096 * 7, 4096 * 20 + 1] {
        let path = dir.path().join(format!("{cut}.jsonl"));
        std::fs::write(&path, &text).unwrap();
        let input = Input {
            path: path.clone(),
            explicit: false,
        };
        let map = map_file(&path, MapPolicy::Always).unwrap();
        truncate(&path, cut);
        let options = ReadOptions::default();
        let small = SmallFile::read_mapped(&input, &options, &map, None, None);
        let Some(small) = small else {
            // Nothing left to tell its format by: read again the ordinary way, as it now is.
            assert_eq!(cut, 0);
            continue;
        };
        assert!(small.shrank && small.results.is_empty(), "cut at {cut}");
        let mut sink = Collect(Vec::new());
        let mut summary = ReadSummary::default();
        let handed = small.hand_on(&options, &mut sink, &mut summary, &mut |_| {}, None);
        assert_eq!(
            handed.map_err(|e| e.to_string()),
            Err(format!(
                "{}: the file shrank while it was being read; run again",
                path.display()
            )),
            "cut at {cut}"
        );
        assert!(
            sink.0.is_empty() && summary.files.is_empty(),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_file_mapped_and_left_alone_reads_as_it_is_read() {
    // Larger than a chunk, so that a map is cut into several chunks, and released as it is read.
    let text = api_log(20 * 1024 * 1024);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.jsonl");
    std::fs::write(&path, &text).unwrap();
    let map = map_file(&path, MapPolicy::Large).unwrap();
    let hashes = [SharedHasher::default(), SharedHasher::default()];
    let lasts = [
        Arc::new(AtomicU16::new(NO_BYTE)),
        Arc::new(AtomicU16::new(NO_BYTE)),
    ];
    let rest = Rest::Mapped(Mapped::new(
        &map,
        Some(hashes[0].clone()),
        None,
        lasts[0].clone(),
    ));
    let through_map = read_one_way(&path, rest, lasts[0].clone());
    let reader = open(&path, None, &lasts[1], Some(hashes[1].clone())).unwrap();
    let read = read_one_way(&path, Rest::Read(reader), lasts[1].clone());
    assert_eq!(read, through_map);
    assert_eq!(digest(&hashes[0]), digest(&hashes[1]));
    assert_eq!(
        digest(&hashes[0]),
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    );
    let records = read.0.unwrap().0;
    assert_eq!(records.len(), text.lines().count());
    assert!(!map.shrank());
}

#[test]
fn claude_code_lines_without_usage_are_counted_not_parsed_every_way() {
    // A source that names a needle (`"usage"`) has only the lines holding it parsed; every line is still
    // counted and numbered. Line 1: a user turn; 2: an assistant line with usage, padded past a few
    // 64-byte blocks; 3: blank; 4: white space only; 5: not JSON and no usage (not parsed: no error);
    // 6: a user turn with a `"usage"` key (parsed, gives nothing); 7: an assistant line, no new line.
    let assistant = |id: &str, out: u64, pad: usize| {
        format!(
            r#"{{"type":"assistant","sessionId":"s","timestamp":"2026-10-03T14:22:05Z","requestId":"r{id}","message":{{"id":"m{id}","model":"claude-sonnet-4-5","content":"{}","usage":{{"input_tokens":3,"output_tokens":{out}}}}}}}"#,
            "x".repeat(pad)
        )
    };
    let user = r#"{"type":"user","sessionId":"s","message":{"role":"user","content":"hi"}}"#;
    let text = format!(
        "{user}\n{}\n\n  \t\n{{not json\n{}\n{}",
        assistant("a", 11, 200),
        r#"{"type":"user","sessionId":"s","usage":{"input_tokens":1}}"#,
        assistant("b", 22, 0),
    );
    let (records, errors) = ReadTester::new(source("claude-code"), text.clone())
        .outcome()
        .unwrap();
    assert_eq!(lines_of(&records), vec![2, 7]);
    let outputs: Vec<u64> = records.iter().map(|r| r.tokens.output).collect();
    assert_eq!(outputs, vec![11, 22]);
    assert!(errors.is_empty(), "{errors:?}");

    // Read whole as a small file, mapped or not: 7 lines, 5 of them not blank, and the next line (where
    // a grown file is read on from) is the unended 7th.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.jsonl");
    std::fs::write(&path, &text).unwrap();
    let input = Input {
        path,
        explicit: false,
    };
    let options = ReadOptions {
        source: Some(source("claude-code")),
        ..ReadOptions::default()
    };
    for policy in [MapPolicy::Never, MapPolicy::Always] {
        let small = SmallFile::read(&input, &options, None, None, policy).unwrap();
        assert_eq!(small.next_line, 7, "{policy:?}");
        let lines: u64 = small.results.iter().map(|r| r.lines).sum();
        assert_eq!(lines, 5, "{policy:?}");
        let records: usize = small.results.iter().map(|r| r.records.len()).sum();
        assert_eq!(records, 2, "{policy:?}");
    }
}

#[test]
fn a_mapped_file_is_cut_into_whole_lines() {
    // After a 3-byte byte order mark (0..3): lines of 2, 3 and 7 bytes (3..5, 5..8, 8..15) and a last one
    // without its new line (15..17), cut into chunks of about 4 bytes: each chunk ends after the last new
    // line within its 4 bytes, a line longer than a chunk is one of its own, and the last one ends at
    // the end.
    let bytes = b"\xEF\xBB\xBFa\nbb\ncccccc\ndd";
    let (chunks, end) = cut_lines(bytes, 3, 4);
    assert_eq!(chunks, vec![3..5, 5..8, 8..15, 15..17]);
    assert_eq!(end, 17);
    // One chunk when the rest is smaller than a chunk; none when nothing is left.
    let (one, end) = cut_lines(bytes, 3, 64);
    assert_eq!((one.len(), one.first(), end), (1, Some(&(3..17)), 17));
    assert_eq!(cut_lines(bytes, 17, 4), (vec![], 17));
}

#[test]
fn a_mapped_line_over_the_limit_is_an_error_naming_its_line_every_way() {
    // A record, then a line of MAX_LINE_BYTES + 1 bytes without an end: the cut stops where that line
    // starts, and the read fails naming line 2, whether chunks are parsed in batches or as a pipeline.
    let mut bytes = format!("{}\n", api_line("a", 100, 0)).into_bytes();
    let second = bytes.len();
    bytes.resize(second + MAX_LINE_BYTES + 1, b'a');
    let (chunks, end) = cut_lines(&bytes, 0, 64 * 1024);
    assert_eq!((chunks.len(), chunks.first()), (1, Some(&(0..second))));
    assert_eq!(end, second);
    for parallel in [false, true] {
        let tuning = Tuning {
            chunk_bytes: 64 * 1024,
            parallel,
            ..Tuning::default()
        };
        let err = read_items_mapped(source("api-log"), &bytes, tuning)
            .err()
            .map(|e| e.to_string());
        let err = err.expect("a line over the limit is an error");
        assert!(
            err.starts_with("test-input:2: a line longer than 64 MiB"),
            "parallel {parallel}: {err}"
        );
    }
}
