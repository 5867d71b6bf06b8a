#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = engine::fuzzing::cli_import(data);
});
