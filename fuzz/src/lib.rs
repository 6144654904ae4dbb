//! What every fuzz target runs: the bytes read as one importer's input by the same driver as `import`
//! and `report` (and through the pricing engine), stopping at the first bad record and skipping bad
//! records. A panic, or an error that does not name the file and a line, is a finding.

use std::sync::OnceLock;

use aispend::pricing::PriceBook;

pub fn check(source: &str, data: &[u8]) {
    static BOOK: OnceLock<PriceBook> = OnceLock::new();
    let book = BOOK.get_or_init(|| PriceBook::load(&[] as &[&str]).expect("built-in prices"));
    let importer = aispend::sources::by_name(source).expect("an importer name");
    for skip_invalid in [false, true] {
        if let Err(broken) =
            aispend::invariants::check(book, "fuzz-input", data, Some(importer), skip_invalid)
        {
            panic!("{source}: {broken}");
        }
    }
}
