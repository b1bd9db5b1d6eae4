//! Request counters for `GET /_sandbox/stats`: tests assert on what the client actually sent.

use std::collections::BTreeMap;

use serde_json::{Value, json};

#[derive(Default)]
pub struct Stats {
    /// (method, route template, status) → count. Status 0 is a dropped connection.
    requests: BTreeMap<(String, String, u16), u64>,
    total: u64,
    pub refreshes: u64,
    pub refreshes_rejected: u64,
    pub rate_limited: u64,
    /// Appointment creates as (toNotify false, toNotify true or absent).
    pub created_notify: (u64, u64),
    /// Appointment edits, likewise.
    pub updated_notify: (u64, u64),
    pub faults: BTreeMap<String, u64>,
}

impl Stats {
    pub fn record(&mut self, method: &str, route: &str, status: u16) {
        self.total += 1;
        *self
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        if status == 429 {
            self.rate_limited += 1;
        }
    }

    pub fn fault(&mut self, name: &str) {
        *self.faults.entry(name.to_string()).or_default() += 1;
    }

    pub fn to_json(&self, contacts: usize) -> Value {
        let requests: Vec<Value> = self
            .requests
            .iter()
            .map(|((method, route, status), count)| {
                json!({"method": method, "route": route, "status": status, "count": count})
            })
            .collect();
        json!({
            "requests": requests,
            "total": self.total,
            "refreshes": self.refreshes,
            "refreshesRejected": self.refreshes_rejected,
            "rateLimited": self.rate_limited,
            "appointmentsCreated": {
                "toNotifyFalse": self.created_notify.0,
                "toNotifyTrueOrAbsent": self.created_notify.1,
            },
            "appointmentsUpdated": {
                "toNotifyFalse": self.updated_notify.0,
                "toNotifyTrueOrAbsent": self.updated_notify.1,
            },
            "faultsInjected": self.faults,
            "contacts": contacts,
        })
    }
}
