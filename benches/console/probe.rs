//! One part of the contact list measured alone, in a fresh process (sled's cache and the heap
//! start empty, as in the console): `api`, the store's contact list the engine's query stands
//! on (first page, then all); `memory`, the process's memory at each step of loading the list;
//! `open`, the store's open alone.
use super::*;

pub fn run(mode: &str, store_path: &Path) {
    let contacts: usize = std::env::var(CONTACTS_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    // As `ghlsync console` does before its threads start.
    ghlsync::allocator::tune(ghlsync::allocator::Workload::Console);
    match mode {
        "api" => api(store_path),
        "open" => {
            let started = Instant::now();
            let store = open_when_free(store_path);
            println!("open_ms {:.1}", started.elapsed().as_secs_f64() * 1000.0);
            drop(store);
        }
        _ => memory_steps(store_path, contacts),
    }
}

fn api(store_path: &Path) {
    let started = Instant::now();
    let store = open_when_free(store_path);
    let open_took = started.elapsed();
    let started = Instant::now();
    let first = store
        .contact_list(PEER, Some(FIRST_CONTACTS))
        .expect("first page");
    let first_took = started.elapsed();
    let started = Instant::now();
    let all = store.contact_list(PEER, None).expect("whole list");
    let all_took = started.elapsed();
    println!(
        "   store, one thread, cold: open {:.0} ms; contact_list first {} {:.1} ms; then all {} {:.0} ms ({:.2} µs each)",
        open_took.as_secs_f64() * 1000.0,
        first.len(),
        first_took.as_secs_f64() * 1000.0,
        all.len(),
        all_took.as_secs_f64() * 1000.0,
        all_took.as_secs_f64() * 1e6 / all.len().max(1) as f64
    );
}

fn memory_steps(store_path: &Path, contacts: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = open_when_free(store_path);
        let (open, _) = memory("self");
        // The store's part alone: the list read and dropped (the console's allocator returns freed
        // pages at once). What stays is sled's (its page cache and the pages' in-memory form).
        let entries = store.contact_list(PEER, None).expect("contact list");
        let (scanned, _) = memory("self");
        drop(entries);
        let (sled_kept, _) = memory("self");
        println!(
            "   memory, the store alone: open {open:.1} MB; whole contact list read {scanned:.1} MB; list dropped {sled_kept:.1} MB"
        );
        let engine = start_in_process(context(store, contacts, None), EngineOptions::default());
        let answer = perform(&engine, &Request::all_contacts()).await;
        let (answered, answered_peak) = memory("self");
        let rows_bytes = match &answer {
            Answer::Contacts(list) => list
                .rows
                .iter()
                .map(|row| {
                    std::mem::size_of_val(row)
                        + row.peer_id.as_ref().map_or(0, String::capacity)
                        + row.name.capacity()
                        + row.ghl_id.as_ref().map_or(0, String::capacity)
                        + row.email.as_ref().map_or(0, String::capacity)
                        + row.phone.as_ref().map_or(0, String::capacity)
                })
                .sum::<usize>(),
            _ => 0,
        };
        let mut state = AppState::new(Mode::Live, PEER, false, Theme::colour());
        update(&mut state, Msg::Answer(answer));
        let (loaded, loaded_peak) = memory("self");
        drop(state);
        let (dropped, _) = memory("self");
        let _ = engine.call(Command::Shutdown).await;
        println!(
            "   memory, step by step: store open {open:.1} MB; engine's contact answer in hand {answered:.1} MB \
             (peak {answered_peak:.1}; the rows themselves {:.1} MB); console state loaded {loaded:.1} MB (peak {loaded_peak:.1}); \
             state dropped {dropped:.1} MB (sled's cache and what is still live)",
            rows_bytes as f64 / 1e6
        );
    });
}
