//! placeholder
use std::path::Path;
use super::{Framing, Source};
pub struct AnthropicUsage;
impl Source for AnthropicUsage {
    fn name(&self) -> &'static str { "anthropic_usage" }
    fn reads(&self) -> &'static str { "" }
    fn detected_by(&self) -> &'static str { "" }
    fn detect(&self, _path: &Path, _head: &[u8]) -> bool { false }
    fn framing(&self) -> Framing { Framing::JsonLines }
}
