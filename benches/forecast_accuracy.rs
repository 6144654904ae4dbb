//! Forecast accuracy benchmark (placeholder until the forecast engine lands).
fn main() {}
