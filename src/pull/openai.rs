//! OpenAI: the Usage API for completions (`GET /v1/organization/usage/completions`, read by
//! `openai-usage`) and the Costs API (`GET /v1/organization/costs`, read by `openai-costs`), with an admin
//! key in `Authorization: Bearer …` (see `reference/provider-formats.md` §1 and §2).
//!
//! Times are unix seconds (`start_time` inclusive, `end_time` exclusive); arrays are form-exploded
//! (`group_by=model&group_by=project_id`); `limit` counts buckets, so it is the most a page may hold.

use reqwest::Url;

use super::{AdminKey, BucketWidth, Endpoint, Plan, Window};
use crate::sources::openai_costs::OpenAiCosts;
use crate::sources::openai_usage::OpenAiUsage;

/// The environment variable holding the admin key.
pub const KEY_VAR: &str = "OPENAI_ADMIN_KEY";
pub const DEFAULT_BASE: &str = "https://api.openai.com";
pub const USAGE_PATH: &str = "/v1/organization/usage/completions";
pub const COSTS_PATH: &str = "/v1/organization/costs";

/// Usage is grouped by every dimension the ledger keeps except `user_id` (one row per user multiplies the
/// rows; attribution uses projects and keys).
pub const USAGE_GROUP_BY: [&str; 5] =
    ["project_id", "api_key_id", "model", "batch", "service_tier"];
pub const COSTS_GROUP_BY: [&str; 2] = ["project_id", "line_item"];
/// The Costs API allows up to 180 daily buckets a page.
pub const COSTS_LIMIT: u32 = 180;

/// What `aispend pull openai` fetches: usage, and costs unless `costs` is false.
pub fn plan(base: Url, window: &Window, width: BucketWidth, costs: bool) -> Plan {
    let period = [
        ("start_time", window.start().timestamp().to_string()),
        ("end_time", window.end().timestamp().to_string()),
    ];
    let mut usage: Vec<(&'static str, String)> = period.to_vec();
    usage.push(("bucket_width", width.as_str().to_owned()));
    usage.extend(USAGE_GROUP_BY.iter().map(|g| ("group_by", (*g).to_owned())));
    usage.push(("limit", width.max_limit().to_string()));
    let mut endpoints = vec![Endpoint {
        path: USAGE_PATH,
        query: usage,
        importer: &OpenAiUsage,
    }];
    if costs {
        let mut query: Vec<(&'static str, String)> = period.to_vec();
        query.push(("bucket_width", "1d".to_owned()));
        query.extend(COSTS_GROUP_BY.iter().map(|g| ("group_by", (*g).to_owned())));
        query.push(("limit", COSTS_LIMIT.to_string()));
        endpoints.push(Endpoint {
            path: COSTS_PATH,
            query,
            importer: &OpenAiCosts,
        });
    }
    Plan {
        provider: "openai",
        base,
        auth,
        endpoints,
    }
}

fn auth(key: &AdminKey) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {}", key.expose()))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_costs_queries() {
        let window = Window {
            since: "2026-10-01".parse().unwrap(),
            until: "2026-10-31".parse().unwrap(),
        };
        let base = Url::parse(DEFAULT_BASE).unwrap();
        let plan = plan(base.clone(), &window, BucketWidth::Day, true);
        let usage = plan.endpoints[0].url(&base).unwrap();
        assert_eq!(
            usage.as_str(),
            "https://api.openai.com/v1/organization/usage/completions"
        );
        let mut url = usage.clone();
        url.query_pairs_mut().extend_pairs(&plan.endpoints[0].query);
        // 2026-10-01T00:00Z = 1_790_812_800; end is 2026-11-01T00:00Z, 31 days later (+2_678_400)
        assert_eq!(
            url.query(),
            Some(
                "start_time=1790812800&end_time=1793491200&bucket_width=1d&group_by=project_id\
                 &group_by=api_key_id&group_by=model&group_by=batch&group_by=service_tier&limit=31"
            )
        );
        assert_eq!(plan.endpoints[1].importer.name(), "openai-costs");
        assert!(plan.endpoints[1]
            .query
            .contains(&("limit", "180".to_owned())));
        assert_eq!(
            auth(&AdminKey::new("k")),
            [("authorization", "Bearer k".to_owned())]
        );
        let hourly = super::plan(base, &window, BucketWidth::Hour, false);
        assert_eq!(hourly.endpoints.len(), 1);
        assert!(hourly.endpoints[0]
            .query
            .contains(&("limit", "168".to_owned())));
        assert!(hourly.endpoints[0]
            .query
            .contains(&("bucket_width", "1h".to_owned())));
    }
}
