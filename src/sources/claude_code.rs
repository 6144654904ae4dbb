//! placeholder
use std::path::Path;
use super::{Framing, Source};
pub struct ClaudeCode;
impl Source for ClaudeCode {
    fn name(&self) -> &'static str { "claude_code" }
    fn reads(&self) -> &'static str { "" }
    fn detected_by(&self) -> &'static str { "" }
    fn detect(&self, _path: &Path, _head: &[u8]) -> bool { false }
    fn framing(&self) -> Framing { Framing::JsonLines }
}
