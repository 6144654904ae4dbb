//! `aispend.toml`: where the ledger lives, how records are attributed to teams (SPEC "Config file"), and
//! which model each Azure OpenAI deployment runs (`[azure] deployments`, used by the pricing engine), and
//! each provider's billing account for the FOCUS export (`[focus.billing_accounts]`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use wildmatch::WildMatch;

use crate::error::{Error, Result};
use crate::record::{Provider, Text, UsageRecord};

/// Where the config in use came from (`aispend config path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigOrigin {
    Flag,
    Env,
    WorkingDir,
    UserDir,
    /// No config file: no team rules, default ledger.
    None,
}

impl ConfigOrigin {
    pub fn describe(self) -> &'static str {
        match self {
            ConfigOrigin::Flag => "--config",
            ConfigOrigin::Env => "$AISPEND_CONFIG",
            ConfigOrigin::WorkingDir => "./aispend.toml in the working folder",
            ConfigOrigin::UserDir => "the user config folder",
            ConfigOrigin::None => "none found",
        }
    }
}

/// `aispend/aispend.toml` in the user's config folder: `$XDG_CONFIG_HOME`, else `~/.config`.
pub fn user_config_file() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .map(|d| d.join("aispend").join("aispend.toml"))
}

/// The team of records that no rule and no own field assign.
pub const UNASSIGNED: &str = "unassigned";

#[derive(Debug, Default)]
pub struct Config {
    pub ledger: Option<PathBuf>,
    pub teams: TeamRules,
    /// Azure deployment name → model (`[azure] deployments = { "prod-gpt4o" = "gpt-4o" }`): Azure records
    /// keep the deployment name as reported; the price book resolves it through this map.
    pub azure_deployments: BTreeMap<String, String>,
    /// `[pricing] fallback = "litellm"` (or `"litellm=FILE"`, relative to the config's folder).
    pub pricing_fallback: Option<crate::pricing::litellm::FallbackSpec>,
    /// Provider → billing account, for records whose source does not name one (`[focus.billing_accounts]`).
    pub billing_accounts: BillingAccounts,
    /// `[recommend]`: what `aispend recommend` is told about the organisation.
    pub recommend: crate::recommend::Settings,
    /// `[allocation]`: how shared and unassigned spend is spread (`report --allocate`, budgets with
    /// `allocated = true`).
    pub allocation: Option<crate::allocate::Allocation>,
    /// The file it came from, if any.
    pub origin: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    ledger: Option<PathBuf>,
    #[serde(default)]
    teams: Option<TeamsSection>,
    #[serde(default)]
    azure: Option<AzureSection>,
    #[serde(default)]
    pricing: Option<PricingSection>,
    #[serde(default)]
    focus: Option<FocusSection>,
    #[serde(default)]
    recommend: Option<RecommendSection>,
    #[serde(default)]
    allocation: Option<crate::allocate::AllocationSection>,
}

/// `[recommend]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecommendSection {
    /// Projects or API keys (`*` wildcards) whose requests can wait for the batch API.
    #[serde(default)]
    batchable: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingSection {
    #[serde(default)]
    fallback: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FocusSection {
    #[serde(default)]
    billing_accounts: BTreeMap<String, BillingAccount>,
}

/// A billing account as configured: `{ id = "org-…", name = "Acme" }` (the name is optional).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingAccount {
    pub id: String,
    pub name: Option<String>,
}

/// `[focus.billing_accounts]`: per provider, the account of records that name none.
#[derive(Debug, Default)]
pub struct BillingAccounts(BTreeMap<Provider, BillingAccount>);

impl BillingAccounts {
    /// The record's billing account id and name: its own (named from the config when the ids agree),
    /// else the configured one for its provider; `None` when neither says.
    pub fn of<'r>(&'r self, r: &'r UsageRecord) -> Option<(&'r str, Option<&'r str>)> {
        let configured = self.0.get(&r.provider);
        match r.billing_account.as_deref().filter(|a| !a.is_empty()) {
            Some(id) => {
                let name = r.billing_account_name.as_deref().filter(|n| !n.is_empty());
                let named = configured
                    .filter(|c| c.id == id)
                    .and_then(|c| c.name.as_deref());
                Some((id, name.or(named)))
            }
            None => configured.map(|c| (c.id.as_str(), c.name.as_deref())),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AzureSection {
    #[serde(default)]
    deployments: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamsSection {
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

/// One value or a list of values; `*` matches any run of characters.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    team: String,
    provider: Option<OneOrMany>,
    model: Option<OneOrMany>,
    project: Option<OneOrMany>,
    api_key: Option<OneOrMany>,
    workspace: Option<OneOrMany>,
    user: Option<OneOrMany>,
    source: Option<OneOrMany>,
    #[serde(default)]
    tag: BTreeMap<String, OneOrMany>,
}

/// Patterns for one field: the field matches when any pattern does.
#[derive(Debug, Clone)]
struct Patterns(Vec<WildMatch>);

impl Patterns {
    fn new(spec: Option<OneOrMany>) -> Option<Patterns> {
        let values = match spec? {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        };
        Some(Patterns(values.iter().map(|v| WildMatch::new(v)).collect()))
    }

    fn matches(&self, value: Option<&str>) -> bool {
        value.is_some_and(|v| self.0.iter().any(|p| p.matches(v)))
    }
}

/// A team rule: every field it names must match.
#[derive(Debug, Clone)]
struct Rule {
    team: String,
    fields: Vec<(Field, Patterns)>,
    tags: Vec<(String, Patterns)>,
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Provider,
    Model,
    Project,
    ApiKey,
    Workspace,
    User,
    Source,
}

impl Field {
    fn value(self, r: &UsageRecord) -> Option<&str> {
        match self {
            Field::Provider => Some(r.provider.as_str()),
            Field::Model => Some(&r.model),
            Field::Project => r.project.as_deref(),
            Field::ApiKey => r.api_key.as_deref(),
            Field::Workspace => r.workspace.as_deref(),
            Field::User => r.user.as_deref(),
            Field::Source => Some(r.source),
        }
    }
}

/// Ordered team rules: the first that matches wins.
#[derive(Debug, Default, Clone)]
pub struct TeamRules(Vec<Rule>);

impl TeamRules {
    /// Whether a rule reads a field the ledger's rollup does not keep (user, API key, tags).
    pub fn reads_request_fields(&self) -> bool {
        self.0.iter().any(|rule| {
            !rule.tags.is_empty()
                || rule
                    .fields
                    .iter()
                    .any(|(f, _)| matches!(f, Field::ApiKey | Field::User))
        })
    }

    /// The record's team: the first matching rule, else its own team field, else `unassigned`.
    pub fn team_of<'r>(&'r self, record: &'r UsageRecord) -> &'r str {
        for rule in &self.0 {
            let fields = rule.fields.iter().all(|(f, p)| p.matches(f.value(record)));
            let tags = rule
                .tags
                .iter()
                .all(|(k, p)| p.matches(record.tags.get(k.as_str()).map(Text::as_str)));
            if fields && tags {
                return &rule.team;
            }
        }
        match record.team.as_deref() {
            Some(t) if !t.is_empty() => t,
            _ => UNASSIGNED,
        }
    }

    /// Every team a rule names.
    pub fn teams(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|r| r.team.as_str())
    }
}

impl Config {
    /// Loads `path`; a missing file is an error when it was asked for explicitly, else an empty config
    /// (for the default `./aispend.toml`).
    /// Finds and loads the config: `--config PATH`, else `$AISPEND_CONFIG`, else `./aispend.toml`, else
    /// `aispend/aispend.toml` in the user's config folder (`$XDG_CONFIG_HOME`, else `~/.config`). A file
    /// named by the flag or the variable must exist; the other two are used when present. With none,
    /// the config is empty.
    pub fn discover(flag: Option<&Path>) -> Result<(Config, ConfigOrigin)> {
        let env = std::env::var_os("AISPEND_CONFIG").filter(|v| !v.is_empty());
        let (path, origin) = match (flag, env) {
            (Some(p), _) => (p.to_path_buf(), ConfigOrigin::Flag),
            (None, Some(p)) => (PathBuf::from(p), ConfigOrigin::Env),
            (None, None) => {
                let user = user_config_file();
                let found = [
                    (
                        Some(PathBuf::from("aispend.toml")),
                        ConfigOrigin::WorkingDir,
                    ),
                    (user, ConfigOrigin::UserDir),
                ]
                .into_iter()
                .find_map(|(p, o)| p.filter(|p| p.is_file()).map(|p| (p, o)));
                match found {
                    Some(f) => f,
                    None => return Ok((Config::default(), ConfigOrigin::None)),
                }
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Ok((Config::parse(&text, &path)?, origin))
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let err = |message: String| Error::Config {
            file: path.display().to_string(),
            message,
        };
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let mut rules = Vec::new();
        for (i, spec) in file
            .teams
            .map(|t| t.rules)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            if spec.team.trim().is_empty() {
                return Err(err(format!("teams rule {} has an empty `team`", i + 1)));
            }
            let fields: Vec<(Field, Patterns)> = [
                (Field::Provider, spec.provider),
                (Field::Model, spec.model),
                (Field::Project, spec.project),
                (Field::ApiKey, spec.api_key),
                (Field::Workspace, spec.workspace),
                (Field::User, spec.user),
                (Field::Source, spec.source),
            ]
            .into_iter()
            .filter_map(|(f, s)| Patterns::new(s).map(|p| (f, p)))
            .collect();
            let tags: Vec<(String, Patterns)> = spec
                .tag
                .into_iter()
                .filter_map(|(k, v)| Patterns::new(Some(v)).map(|p| (k, p)))
                .collect();
            if fields.is_empty() && tags.is_empty() {
                return Err(err(format!(
                    "teams rule {} (team '{}') matches nothing: give at least one of provider, model, project, \
                     api_key, workspace, user, source, tag",
                    i + 1,
                    spec.team
                )));
            }
            rules.push(Rule {
                team: spec.team,
                fields,
                tags,
            });
        }
        let azure_deployments = file.azure.map(|a| a.deployments).unwrap_or_default();
        for (deployment, model) in &azure_deployments {
            if deployment.trim().is_empty() || model.trim().is_empty() {
                return Err(err(format!(
                    "[azure] deployments: '{deployment}' = '{model}': neither the deployment nor the model may be empty"
                )));
            }
        }
        let pricing_fallback = match file.pricing.and_then(|p| p.fallback) {
            None => None,
            Some(text) => {
                let mut spec = crate::pricing::litellm::FallbackSpec::parse(&text)
                    .map_err(|e| err(format!("[pricing] fallback: {e}")))?;
                spec.file = spec.file.map(|f| match path.parent() {
                    Some(dir) if f.is_relative() && !dir.as_os_str().is_empty() => dir.join(f),
                    _ => f,
                });
                Some(spec)
            }
        };
        let mut billing_accounts = BTreeMap::new();
        for (provider, account) in file.focus.map(|f| f.billing_accounts).unwrap_or_default() {
            let Some(p) = Provider::parse(&provider) else {
                return Err(err(format!(
                    "[focus.billing_accounts]: unknown provider '{provider}' (one of: {})",
                    Provider::ALL.map(Provider::as_str).join(", ")
                )));
            };
            if account.id.trim().is_empty() {
                return Err(err(format!(
                    "[focus.billing_accounts] {provider}: `id` may not be empty"
                )));
            }
            billing_accounts.insert(p, account);
        }
        // A relative ledger path is relative to the config file's folder.
        let ledger = file.ledger.map(|l| match path.parent() {
            Some(dir)
                if l.is_relative() && !dir.as_os_str().is_empty() && !crate::ledger::is_url(&l) =>
            {
                dir.join(l)
            }
            _ => l,
        });
        let allocation = file
            .allocation
            .map(crate::allocate::Allocation::from_section)
            .transpose()
            .map_err(err)?;
        Ok(Config {
            ledger,
            teams: TeamRules(rules),
            azure_deployments,
            pricing_fallback,
            billing_accounts: BillingAccounts(billing_accounts),
            recommend: crate::recommend::Settings {
                batchable: file.recommend.map(|r| r.batchable).unwrap_or_default(),
            },
            allocation,
            origin: Some(path.to_path_buf()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Provenance;
    use chrono::Utc;

    fn record() -> UsageRecord {
        let at = Provenance {
            file: "f".into(),
            line: 1,
        };
        UsageRecord::new(
            "id".into(),
            "api-log",
            Provider::OpenAI,
            "gpt-4o".into(),
            Utc::now(),
            at,
        )
    }

    const RULES: &str = r#"
[teams]
rules = [
  { team = "search",  project = ["proj_Ab12Cd34", "proj_Ef56"] },
  { team = "support", api_key = "key_Xy98*" },
  { team = "platform", tag = { env = "prod" } },
]
"#;

    #[test]
    fn first_matching_rule_wins_then_own_field_then_unassigned() {
        let c = Config::parse(RULES, Path::new("aispend.toml")).unwrap();
        let mut r = record();
        assert_eq!(c.teams.team_of(&r), UNASSIGNED);
        r.team = Some("growth".into());
        assert_eq!(c.teams.team_of(&r), "growth");
        r.api_key = Some("key_Xy98Zw76".into());
        assert_eq!(c.teams.team_of(&r), "support");
        r.project = Some("proj_Ef56".into());
        assert_eq!(c.teams.team_of(&r), "search");
        let mut r = record();
        r.tags.insert("env".into(), "prod".into());
        assert_eq!(c.teams.team_of(&r), "platform");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = Config::parse(
            "[teams]\nrules = [{ team = \"a\", projekt = \"x\" }]",
            Path::new("a.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("projekt"), "{e}");
        let e =
            Config::parse("[teams]\nrules = [{ team = \"a\" }]", Path::new("a.toml")).unwrap_err();
        assert!(e.to_string().contains("matches nothing"), "{e}");
        let e = Config::parse(
            "[azure]\ndeployment = { a = \"gpt-4o\" }",
            Path::new("a.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("deployment"), "{e}");
    }

    #[test]
    fn billing_accounts_fill_records_that_name_none() {
        let c = Config::parse(
            "[focus.billing_accounts]\nopenai = { id = \"org-1\", name = \"Acme\" }\nAnthropic = { id = \"ant-1\" }",
            Path::new("a.toml"),
        )
        .unwrap();
        let accounts = &c.billing_accounts;
        let mut r = record();
        assert_eq!(accounts.of(&r), Some(("org-1", Some("Acme"))));
        // The source's own account wins; the config names it only when the ids agree.
        r.billing_account = Some("org-2".into());
        assert_eq!(accounts.of(&r), Some(("org-2", None)));
        r.billing_account = Some("org-1".into());
        assert_eq!(accounts.of(&r), Some(("org-1", Some("Acme"))));
        r.billing_account_name = Some("Acme Inc".into());
        assert_eq!(accounts.of(&r), Some(("org-1", Some("Acme Inc"))));
        r.provider = Provider::Anthropic;
        r.billing_account = None;
        assert_eq!(accounts.of(&r), Some(("ant-1", None)));
        r.provider = Provider::Google;
        assert_eq!(accounts.of(&r), None);
        for bad in [
            "[focus.billing_accounts]\nopenia = { id = \"x\" }",
            "[focus.billing_accounts]\nopenai = { id = \"\" }",
            "[focus.billing_accounts]\nopenai = { name = \"x\" }",
            "[focus]\nbilling_account = {}",
        ] {
            assert!(Config::parse(bad, Path::new("a.toml")).is_err(), "{bad}");
        }
    }

    #[test]
    fn azure_deployments_map_to_models() {
        let c = Config::parse(
            "[azure]\ndeployments = { \"prod-gpt4o\" = \"gpt-4o\", \"chat-mini\" = \"gpt-4o-mini\" }",
            Path::new("a.toml"),
        )
        .unwrap();
        assert_eq!(c.azure_deployments["prod-gpt4o"], "gpt-4o");
        assert_eq!(c.azure_deployments.len(), 2);
        assert!(Config::parse(
            "[azure]\ndeployments = { \"x\" = \"\" }",
            Path::new("a.toml")
        )
        .is_err());
    }
}
