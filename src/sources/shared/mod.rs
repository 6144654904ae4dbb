//! What importers share, and nothing that is an importer: JSON and CSV reading helpers and content
//! sniffing ([`common`]), the provider response shapes that API logs, LiteLLM and OpenRouter all carry
//! ([`response`]), and the Admin API page walker of the usage and cost pages ([`admin_page`]).
//! Importers use these; these never use an importer.

pub mod admin_page;
pub mod common;
pub mod json;
pub mod response;
