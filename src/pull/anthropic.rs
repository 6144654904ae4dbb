//! Anthropic: the Admin API usage report (`GET /v1/organizations/usage_report/messages`, read by
//! `anthropic-usage`) and cost report (`GET /v1/organizations/cost_report`, read by `anthropic-cost`),
//! with headers `x-api-key` and `anthropic-version: 2023-06-01` (see `reference/provider-formats.md` §4).
//!
//! Times are RFC 3339 (`starting_at` inclusive, `ending_at` exclusive); arrays use brackets
//! (`group_by[]=workspace_id&group_by[]=model`).

use chrono::SecondsFormat;
use reqwest::Url;

use super::{AdminKey, BucketWidth, Endpoint, Plan, Window};
use crate::sources::anthropic_cost::AnthropicCost;
use crate::sources::anthropic_usage::AnthropicUsage;

/// The environment variable holding the admin key.
pub const KEY_VAR: &str = "ANTHROPIC_ADMIN_KEY";
pub const DEFAULT_BASE: &str = "https://api.anthropic.com";
pub const USAGE_PATH: &str = "/v1/organizations/usage_report/messages";
pub const COST_PATH: &str = "/v1/organizations/cost_report";
pub const API_VERSION: &str = "2023-06-01";

pub const USAGE_GROUP_BY: [&str; 5] = [
    "workspace_id",
    "api_key_id",
    "model",
    "service_tier",
    "context_window",
];
pub const COST_GROUP_BY: [&str; 2] = ["workspace_id", "description"];
/// The cost report allows up to 31 daily buckets a page.
pub const COST_LIMIT: u32 = 31;

/// What `aispend pull anthropic` fetches: usage, and costs unless `costs` is false.
pub fn plan(base: Url, window: &Window, width: BucketWidth, costs: bool) -> Plan {
    let period = [
        (
            "starting_at",
            window.start().to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        (
            "ending_at",
            window.end().to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
    ];
    let mut usage: Vec<(&'static str, String)> = period.to_vec();
    usage.push(("bucket_width", width.as_str().to_owned()));
    usage.extend(
        USAGE_GROUP_BY
            .iter()
            .map(|g| ("group_by[]", (*g).to_owned())),
    );
    usage.push(("limit", width.max_limit().to_string()));
    let mut endpoints = vec![Endpoint {
        path: USAGE_PATH,
        query: usage,
        importer: &AnthropicUsage,
    }];
    if costs {
        let mut query: Vec<(&'static str, String)> = period.to_vec();
        query.push(("bucket_width", "1d".to_owned()));
        query.extend(
            COST_GROUP_BY
                .iter()
                .map(|g| ("group_by[]", (*g).to_owned())),
        );
        query.push(("limit", COST_LIMIT.to_string()));
        endpoints.push(Endpoint {
            path: COST_PATH,
            query,
            importer: &AnthropicCost,
        });
    }
    Plan {
        provider: "anthropic",
        base,
        auth,
        endpoints,
    }
}

fn auth(key: &AdminKey) -> Vec<(&'static str, String)> {
    vec![
        ("x-api-key", key.expose().to_owned()),
        ("anthropic-version", API_VERSION.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_cost_queries() {
        let window = Window {
            since: "2026-10-01".parse().unwrap(),
            until: "2026-10-07".parse().unwrap(),
        };
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let plan = plan(base.clone(), &window, BucketWidth::Day, true);
        let url = plan.endpoints[0].url(&base).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/v1/organizations/usage_report/messages"
        );
        let q = &plan.endpoints[0].query;
        assert_eq!(q[0], ("starting_at", "2026-10-01T00:00:00Z".to_owned()));
        // --until 2026-10-07 is inclusive: the report ends at the next midnight
        assert_eq!(q[1], ("ending_at", "2026-10-08T00:00:00Z".to_owned()));
        let groups: Vec<&str> = q
            .iter()
            .filter(|(k, _)| *k == "group_by[]")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(groups, USAGE_GROUP_BY);
        assert_eq!(plan.endpoints[1].path, COST_PATH);
        assert_eq!(plan.endpoints[1].importer.name(), "anthropic-cost");
        let headers = auth(&AdminKey::new("k"));
        assert!(headers.contains(&("anthropic-version", "2023-06-01".to_owned())));
        assert!(headers.contains(&("x-api-key", "k".to_owned())));
    }
}
