//! Our model of the server's rate window, corrected by every `X-RateLimit-Remaining`.
//!
//! The budget is `remaining − reserve − requests sent after the one that reported it`: every
//! later request is counted whether or not it has arrived, so requests in flight never inflate
//! the figure (sync-design §6.4, "header correction"). Within one window we trust the server only
//! when it leaves us fewer requests than we believe.
//!
//! When the budget is spent we wait until the oldest request the server counted leaves its
//! window: `receive time of that request + interval`, an upper bound on its arrival. That is the
//! end of a fixed window (counted from its first request) and the first free slot of a sliding
//! one. Then either the window is assumed fresh (once the server has shown that it resets fully)
//! or one probe request goes out alone and its answer tells us what the server has left.
//! Refilling tokens alone would dribble requests into a spent fixed window: a 429 per window.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// How many recent requests we remember receive times for.
const HISTORY: usize = 4096;

pub(super) enum WindowGate {
    Open {
        probe: bool,
    },
    WaitUntil(Instant),
    /// A probe is out; wait for its answer, at most until the instant (then probe again).
    WaitForProbe(Instant),
}

/// What the window needs to know about the limiter around it.
pub(super) struct Context {
    pub sent_seq: u64,
    pub in_flight: u32,
    pub max: u32,
    pub interval: Duration,
    pub reserve: u32,
    /// How far apart answers of requests in flight together can be (the concurrency cap).
    pub reorder_tolerance: i64,
}

#[derive(Debug, Clone)]
pub(super) struct ServerWindow {
    /// Trust the next report outright (nothing known yet, or a fresh window was assumed).
    trust_next: bool,
    anchor_seq: u64,
    anchor_remaining: i64,
    /// When the oldest request counted by the anchor report leaves the server's window.
    pub frees_at: Option<Instant>,
    /// The probe in flight and when it was sent.
    probe: Option<(u64, Instant)>,
    /// Learned: the server's count drops to zero when its window ends (a fixed window).
    full_resets: bool,
    /// Receive instants of recent requests; `history[0]` is request `history_base`.
    history: VecDeque<Option<Instant>>,
    history_base: u64,
}

impl ServerWindow {
    pub fn new(initial_max: u32) -> Self {
        ServerWindow {
            trust_next: true,
            anchor_seq: 0,
            anchor_remaining: i64::from(initial_max),
            frees_at: None,
            probe: None,
            full_resets: false,
            history: VecDeque::new(),
            history_base: 1,
        }
    }

    pub fn budget(&self, sent_seq: u64, reserve: u32) -> i64 {
        self.anchor_remaining - i64::from(reserve) - (sent_seq - self.anchor_seq) as i64
    }

    pub fn gate(&mut self, now: Instant, cx: &Context) -> WindowGate {
        if self.budget(cx.sent_seq, cx.reserve) > 0 {
            return WindowGate::Open { probe: false };
        }
        match self.frees_at {
            Some(at) if at > now => WindowGate::WaitUntil(at),
            Some(_) if self.full_resets => {
                self.assume_fresh(cx);
                if self.budget(cx.sent_seq, cx.reserve) > 0 {
                    WindowGate::Open { probe: false }
                } else {
                    WindowGate::WaitUntil(now + cx.interval)
                }
            }
            Some(_) => match self.probe {
                // A probe unanswered for a whole interval is presumed lost.
                Some((_, sent_at)) if now < sent_at + cx.interval => {
                    WindowGate::WaitForProbe(sent_at + cx.interval)
                }
                _ => WindowGate::Open { probe: true },
            },
            // Spent without any answer saying when the window began: wait a whole one.
            None => {
                let at = now + cx.interval;
                self.frees_at = Some(at);
                WindowGate::WaitUntil(at)
            }
        }
    }

    /// The window we spent has ended: assume a fresh one, minus what is in flight (those may
    /// land in it). Reports of requests sent before now are stale from here on.
    fn assume_fresh(&mut self, cx: &Context) {
        self.anchor_seq = cx.sent_seq;
        self.anchor_remaining = i64::from(cx.max) - i64::from(cx.in_flight);
        self.frees_at = None;
        self.trust_next = true;
    }

    pub fn on_sent(&mut self, seq: u64, sent_at: Instant, probe: bool) {
        self.history.push_back(None);
        if self.history.len() > HISTORY {
            self.history.pop_front();
            self.history_base += 1;
        }
        if probe {
            self.probe = Some((seq, sent_at));
        }
    }

    pub fn on_unanswered(&mut self, seq: u64) {
        if self.is_probe(seq) {
            self.probe = None;
        }
    }

    fn is_probe(&self, seq: u64) -> bool {
        self.probe.is_some_and(|(probe, _)| probe == seq)
    }

    pub fn on_answer(
        &mut self,
        seq: u64,
        sent_at: Instant,
        received_at: Instant,
        remaining: Option<u32>,
        cx: &Context,
    ) {
        if let Some(slot) = seq
            .checked_sub(self.history_base)
            .and_then(|i| self.history.get_mut(i as usize))
        {
            *slot = Some(received_at);
        }
        let was_probe = self.is_probe(seq);
        if was_probe {
            self.probe = None;
        }
        let Some(remaining) = remaining.map(i64::from) else {
            // A probe answered without the header taught us nothing: carry on as if fresh.
            if was_probe {
                self.assume_fresh(cx);
            }
            return;
        };
        // Older reports than the one we hold say nothing new.
        if seq <= self.anchor_seq {
            return;
        }
        let after_boundary =
            was_probe || self.trust_next || self.frees_at.is_some_and(|at| sent_at >= at);
        let jumped = remaining > self.anchor_remaining + cx.reorder_tolerance;
        if after_boundary || jumped {
            if after_boundary && !(self.trust_next && self.anchor_seq == 0) {
                // Did the count start again from (nearly) zero? Then windows reset fully.
                self.full_resets = i64::from(cx.max) - remaining <= cx.reorder_tolerance + 1;
            }
            self.trust_next = false;
            self.set_anchor(seq, remaining, received_at, cx);
        } else if remaining + (seq as i64) < self.anchor_remaining + (self.anchor_seq as i64) {
            self.set_anchor(seq, remaining, received_at, cx);
        }
    }

    fn set_anchor(&mut self, seq: u64, remaining: i64, received_at: Instant, cx: &Context) {
        self.anchor_seq = seq;
        self.anchor_remaining = remaining;
        // The server counted `max − remaining` requests; if they are ours, the oldest is this one.
        let counted = i64::from(cx.max) - remaining;
        let oldest = seq as i64 - counted + 1;
        let oldest_received = u64::try_from(oldest)
            .ok()
            .filter(|_| counted > 0)
            .and_then(|oldest| oldest.checked_sub(self.history_base))
            .and_then(|i| self.history.get(i as usize).copied().flatten())
            // Unknown (someone else's request, or not answered yet): it arrived before this
            // report was made, so this report's receive time is an upper bound.
            .unwrap_or(received_at)
            .min(received_at);
        self.frees_at = Some(oldest_received + cx.interval + margin(cx.interval));
    }

    /// A 429: the window is spent until `until`, and the server may not reset as we thought.
    pub fn on_rate_limited(&mut self, until: Instant, cx: &Context) {
        self.anchor_seq = cx.sent_seq;
        self.anchor_remaining = i64::from(cx.reserve);
        self.frees_at = Some(until);
        self.full_resets = false;
        self.trust_next = false;
    }
}

/// Slack after the estimated window end, for clock granularity between us and the server.
fn margin(interval: Duration) -> Duration {
    (interval / 200).clamp(Duration::from_millis(1), Duration::from_millis(50))
}
