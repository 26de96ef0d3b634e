//! ATT&CK data never panics vigil: any text is read as a STIX bundle and as a compact
//! table (an error is fine), and what loads is queried and mapped.
#![no_main]

use vigil_attack::Attack;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let loaded = [
        Attack::from_bundle(&text, "fuzz.json"),
        Attack::from_table(&text, Some(data), "fuzz.jsonl"),
    ];
    for attack in loaded.into_iter().flatten() {
        let ids: Vec<String> = attack.techniques().iter().map(|t| t.id.clone()).collect();
        for id in ids.iter().take(20) {
            let _ = attack.resolve(id);
            let _ = attack.subtechniques(id).count();
        }
        let _ = attack.map_tags(&["attack.t1059.001", "attack.execution", "attack.g0016"]);
        let _ = attack.table();
        let _ = attack.text_table();
    }
});
