//! A `/_sandbox/stats` answer, split into GHL's requests and the peers'. Shared by the benches
//! that count requests (`first_sync`, `limits`).

use serde_json::Value;

/// Route prefixes of the emulated peers; every other route is GHL's.
const PEER_PREFIXES: [&str; 5] = ["/repsly/", "/robly/", "/rezora/", "/growbots", "/generic"];

pub struct Stats(Value);

impl Stats {
    pub async fn read(http: &reqwest::Client, base_url: &str) -> Stats {
        Stats(
            http.get(format!("{base_url}/_sandbox/stats"))
                .send()
                .await
                .expect("stats")
                .json()
                .await
                .expect("stats json"),
        )
    }

    fn rows(&self) -> impl Iterator<Item = &Value> {
        self.0["requests"].as_array().into_iter().flatten()
    }

    fn sum(&self, keep: impl Fn(&Value) -> bool) -> u64 {
        self.rows()
            .filter(|r| keep(r))
            .filter_map(|r| r["count"].as_u64())
            .sum()
    }

    fn is_ghl(row: &Value) -> bool {
        let route = row["route"].as_str().unwrap_or("");
        !PEER_PREFIXES.iter().any(|p| route.starts_with(p))
    }

    pub fn ghl(&self) -> u64 {
        self.sum(Stats::is_ghl)
    }

    pub fn peer(&self) -> u64 {
        self.sum(|r| !Stats::is_ghl(r))
    }

    /// GHL's 429s.
    pub fn too_many(&self) -> u64 {
        self.sum(|r| Stats::is_ghl(r) && r["status"] == 429)
    }

    /// GHL's requests by method and route, e.g. `POST /contacts/upsert 1004, …`.
    #[allow(dead_code)] // not every bench prints them
    pub fn ghl_routes(&self) -> String {
        let mut routes: std::collections::BTreeMap<String, u64> = Default::default();
        for row in self.rows().filter(|r| Stats::is_ghl(r)) {
            let key = format!(
                "{} {}",
                row["method"].as_str().unwrap_or(""),
                row["route"].as_str().unwrap_or("")
            );
            *routes.entry(key).or_default() += row["count"].as_u64().unwrap_or(0);
        }
        routes
            .iter()
            .map(|(route, n)| format!("{route} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Counts between two readings.
#[allow(dead_code)] // the `first_sync` bench reads whole runs only
pub struct Delta {
    pub ghl: u64,
    pub peer: u64,
    pub too_many: u64,
}

#[allow(dead_code)]
impl Delta {
    pub fn between(before: &Stats, after: &Stats) -> Delta {
        Delta {
            ghl: after.ghl() - before.ghl(),
            peer: after.peer() - before.peer(),
            too_many: after.too_many() - before.too_many(),
        }
    }
}
