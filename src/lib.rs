//! `aispend`: AI spend cost intelligence.
//!
//! Data flows one way: [`sources`] read provider exports and API logs into [`record::UsageRecord`]s
//! (driven by [`input`]), the [`ledger`] stores them, the [`pricing`] engine prices each record when it is
//! read, and [`report`] aggregates and renders.

pub mod account;
pub mod allocate;
pub mod anomalies;
pub mod budget;
pub mod cache;
pub mod cli;
pub mod config;
pub mod decimal;
pub mod error;
pub mod export;
pub mod forecast;
pub mod health;
pub mod input;
pub mod invariants;
pub mod ledger;
pub mod output;
pub mod period;
pub mod pg;
pub mod pricing;
pub mod pull;
pub mod recommend;
pub mod record;
pub mod region;
pub mod report;
pub mod robust;
pub mod sanitize;
pub mod sources;
pub mod timestamp;
pub mod usage_input;
pub mod whatif;
