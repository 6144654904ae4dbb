//! The promises reading any input keeps, whatever the bytes: no panic, and every error names the file
//! and a line (`file:line: …`), on one short line. The mutation test (`tests/cli/mutation.rs`) and the
//! fuzz targets (`fuzz/`) run arbitrary bytes through [`check`]: the real importers, the same driver
//! as `import` and `report` (detection, readers, limits, range checks), and the pricing engine.

use crate::error::Error;
use crate::input::{read_bytes, Accepted, ReadOptions, RecordSink};
use crate::pricing::{PriceBook, Pricer};
use crate::record::UsageRecord;
use crate::sources::Source;

/// Prices every record it is given and looks at every number the ledger would store.
struct PricingSink<'a> {
    pricer: Pricer<'a>,
    records: u64,
}

impl RecordSink for PricingSink<'_> {
    fn accept(&mut self, record: UsageRecord) -> crate::error::Result<Accepted> {
        let _ = self.pricer.price(&record);
        let _ = (record.dedup_weight(), record.tokens.total());
        self.records += 1;
        Ok(Accepted::Added)
    }
}

/// The longest error message the promises allow (excerpts keep them short whatever the input).
const MAX_ERROR_CHARS: usize = 3_000;

/// Reads `bytes` as the file `name` with `source` (or auto-detection when `None`), skipping invalid
/// records or not, and checks the promises. Returns how many records were read, or what was broken.
/// A panic inside is the caller's to catch (a fuzzer reports it; a test fails).
pub fn check(
    book: &PriceBook,
    name: &str,
    bytes: &[u8],
    source: Option<&'static dyn Source>,
    skip_invalid: bool,
) -> Result<u64, String> {
    let mut sink = PricingSink {
        pricer: Pricer::new(book),
        records: 0,
    };
    let options = ReadOptions {
        source,
        skip_invalid,
        progress: false,
        cache: None,
    };
    match read_bytes(name, bytes, options, &mut sink) {
        Ok(_) => Ok(sink.records),
        Err(Error::Input { file, record }) => {
            let text = Error::Input {
                file: file.clone(),
                record: record.clone(),
            }
            .to_string();
            if file != name {
                return Err(format!("the error names {file:?}, not {name:?}: {text}"));
            }
            if record.line == 0 {
                return Err(format!("the error names no line: {text}"));
            }
            if !text.starts_with(&format!("{name}:{}: ", record.line)) {
                return Err(format!("the error does not start with file:line: {text}"));
            }
            if text.chars().count() > MAX_ERROR_CHARS || text.contains('\n') {
                return Err(format!(
                    "the error is not one short line ({} chars)",
                    text.chars().count()
                ));
            }
            Ok(0)
        }
        Err(other) => Err(format!("not an input error naming file and line: {other}")),
    }
}
