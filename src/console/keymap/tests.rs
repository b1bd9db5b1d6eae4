use super::*;
use crate::console::action::{FocusTarget, Motion, PromptKind, RetryTarget, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashSet;

fn key(s: &str) -> Key {
    s.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn act(s: &str) -> Resolution {
    Resolution::Action(vec![s.parse().unwrap_or_else(|e| panic!("{e}"))])
}

fn builtin() -> Keymap {
    let (keymap, warnings) = Keymap::builtin();
    assert!(warnings.is_empty(), "{warnings:#?}");
    keymap
}

fn with_user(text: &str) -> (Keymap, Vec<KeymapWarning>) {
    Keymap::from_texts(Some(("user.toml", text)))
}

#[test]
fn the_default_parses_with_no_warnings() {
    let (file, warnings) = file::parse(DEFAULT_KEYMAP_NAME, DEFAULT_KEYMAP);
    assert!(warnings.is_empty(), "{warnings:#?}");
    // Every layer is present in the shipped file, and uses `keymap` only.
    for layer in Layer::ALL {
        let sections = file
            .layers
            .get(&layer)
            .unwrap_or_else(|| panic!("[{layer}] missing from the default"));
        assert!(sections.keymap.is_some(), "[{layer}] has no keymap");
        assert!(sections.prepend.is_empty() && sections.append.is_empty());
    }
    builtin();
}

#[test]
fn every_run_in_the_default_resolves_to_an_action() {
    // Re-read the raw file so a binding dropped with a warning would still be counted.
    let raw: toml::Table = toml::from_str(DEFAULT_KEYMAP).unwrap();
    let keymap = builtin();
    let mut total = 0;
    for (layer_name, table) in &raw {
        let layer: Layer = layer_name.parse().unwrap();
        let entries = table["keymap"].as_array().unwrap();
        assert_eq!(entries.len(), keymap.bindings(layer).len(), "[{layer}]");
        for entry in entries {
            let runs = match &entry["run"] {
                toml::Value::String(s) => vec![s.as_str()],
                toml::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
                other => panic!("{other:?}"),
            };
            for run in runs {
                let action: Action = run.parse().unwrap_or_else(|e| panic!("{run}: {e}"));
                assert_eq!(action.to_string(), run, "canonical form in keymap.toml");
            }
            assert!(
                entry.get("desc").and_then(|d| d.as_str()).is_some(),
                "{entry:?} has a desc"
            );
            total += 1;
        }
    }
    assert!(total > 60, "{total}");
}

#[test]
fn no_duplicate_or_clashing_chords_per_layer_in_the_default() {
    let keymap = builtin();
    for layer in Layer::ALL {
        let chords = keymap.table(layer).chords();
        let mut seen = HashSet::new();
        for c in chords {
            assert!(seen.insert(c.keys.clone()), "[{layer}] {}", c.keys_string());
            for d in chords {
                if c.keys.len() < d.keys.len() {
                    assert!(
                        !d.keys.starts_with(&c.keys),
                        "[{layer}] {} hides {}",
                        c.keys_string(),
                        d.keys_string()
                    );
                }
            }
        }
    }
}

#[test]
fn bindings_cover_every_entry_with_its_description() {
    let keymap = builtin();
    for layer in Layer::ALL {
        let bindings = keymap.bindings(layer);
        let chords = keymap.table(layer).chords();
        assert_eq!(bindings.len(), chords.len(), "[{layer}]");
        for (b, c) in bindings.iter().zip(chords) {
            assert_eq!(b.keys, c.keys_string());
            assert_eq!(b.actions, c.actions);
            assert!(b.desc.is_some(), "[{layer}] {} has a description", b.keys);
        }
    }
    let global = keymap.bindings(Layer::Global);
    let gg = global.iter().find(|b| b.keys == "g g").unwrap();
    assert_eq!(gg.actions, vec![Action::Move(Motion::Top)]);
    assert_eq!(gg.desc.as_deref(), Some("Top"));
    // Help for a screen: its own keys first, then the global ones it does not shadow.
    let log = keymap.visible_bindings(Layer::SyncLog);
    assert_eq!(log[0].keys, "s");
    let enters: Vec<_> = log.iter().filter(|b| b.keys == "<Enter>").collect();
    assert_eq!(enters.len(), 1);
    assert_eq!(enters[0].actions, vec![Action::LogDetail]);
    assert!(log.iter().any(|b| b.keys == "?"));
    // The modal layers do not inherit global.
    assert_eq!(
        keymap.visible_bindings(Layer::Prompt),
        keymap.bindings(Layer::Prompt)
    );
}

#[test]
fn the_default_has_the_k9s_and_vim_conventions() {
    let k = builtin();
    let none: &[Key] = &[];
    for layer in [
        Layer::Contacts,
        Layer::Failures,
        Layer::SyncLog,
        Layer::Detail,
    ] {
        assert_eq!(k.resolve(layer, none, key("?")), act("help"));
        assert_eq!(k.resolve(layer, none, key(":")), act("prompt:command"));
        assert_eq!(k.resolve(layer, none, key("/")), act("prompt:filter"));
        assert_eq!(k.resolve(layer, none, key("q")), act("quit"));
        assert_eq!(k.resolve(layer, none, key("<Esc>")), act("back"));
        assert_eq!(k.resolve(layer, none, key("j")), act("move down"));
        assert_eq!(k.resolve(layer, none, key("<Down>")), act("move down"));
        assert_eq!(k.resolve(layer, none, key("k")), act("move up"));
        assert_eq!(k.resolve(layer, none, key("G")), act("move bottom"));
        assert_eq!(k.resolve(layer, none, key("<Tab>")), act("focus next"));
        assert_eq!(k.resolve(layer, none, key("<S-Tab>")), act("focus prev"));
        assert_eq!(k.resolve(layer, none, key("<C-z>")), act("suspend"));
    }
    for (i, screen) in Screen::TABS.into_iter().enumerate() {
        let digit = char::from_digit(i as u32 + 1, 10).unwrap();
        assert_eq!(
            k.resolve(Layer::Status, none, Key::char(digit)),
            Resolution::Action(vec![Action::Focus(FocusTarget::Screen(screen))])
        );
    }
    let f = Layer::Failures;
    assert_eq!(k.resolve(f, none, key("r")), act("sync:retry --selected"));
    assert_eq!(
        k.resolve(f, none, key("o")),
        act("sync:retry --original --selected")
    );
    assert_eq!(k.resolve(f, none, key("x")), act("sync:skip --selected"));
    assert_eq!(k.resolve(f, none, key("X")), act("sync:resolve --selected"));
    assert_eq!(k.resolve(f, none, key("<Space>")), act("toggle_mark"));
    assert!(matches!(
        k.resolve(f, none, key("R")),
        Resolution::Action(a) if matches!(a[..], [Action::Retry { target: RetryTarget::SelectedReason, .. }])
    ));
    // Every children screen switches between one contact and all contacts with `a`.
    for layer in [Layer::Tasks, Layer::Notes, Layer::Appointments] {
        assert_eq!(
            k.resolve(layer, none, key("a")),
            act("children:scope --toggle")
        );
    }
    // Up/Down in the prompt walk its history.
    assert_eq!(k.resolve(Layer::Prompt, none, key("<Up>")), act("move up"));
    assert_eq!(
        k.resolve(Layer::Prompt, none, key("<Down>")),
        act("move down")
    );
    let m = Layer::Mapping;
    assert_eq!(k.resolve(m, none, key("e")), act("mapping:edit"));
    assert_eq!(k.resolve(m, none, key("<C-s>")), act("mapping:save"));
    assert_eq!(k.resolve(m, none, key("u")), act("mapping:undo"));
    assert_eq!(k.resolve(m, none, key("p")), act("mapping:preview"));
    let l = Layer::SyncLog;
    assert_eq!(k.resolve(l, none, key("s")), act("log:follow --toggle"));
    assert_eq!(k.resolve(l, none, key("w")), act("log:wrap --toggle"));
    assert_eq!(k.resolve(l, none, key("t")), act("log:timestamps --toggle"));
    assert_eq!(k.resolve(Layer::Contacts, none, key("S")), act("sync:now"));
    assert_eq!(
        k.resolve(Layer::Contacts, none, key("s")),
        act("sync:contact")
    );
    assert_eq!(
        k.resolve(Layer::Detail, none, key("s")),
        act("sync:contact")
    );
    assert_eq!(
        k.resolve(Layer::Contacts, none, key("<C-l>")),
        act("redraw")
    );
    // `q` is text in the prompt, and the prompt does not fall through to global.
    assert_eq!(
        k.resolve(Layer::Prompt, none, key("q")),
        Resolution::Unbound
    );
    assert_eq!(
        k.resolve(Layer::Prompt, none, key("?")),
        Resolution::Unbound
    );
    assert_eq!(k.resolve(Layer::Prompt, none, key("<Esc>")), act("back"));
    assert_eq!(
        k.resolve(Layer::Prompt, none, key("<Enter>")),
        act("select")
    );
    assert_eq!(
        k.resolve(Layer::Prompt, none, key(":")),
        Resolution::Unbound,
        "no nested palette"
    );
    // Confirmation: y/n, and Enter presses the focused button (Cancel by default).
    assert_eq!(
        k.resolve(Layer::Confirm, none, key("y")),
        act("confirm:yes")
    );
    assert_eq!(
        k.resolve(Layer::Confirm, none, key("<Esc>")),
        act("confirm:no")
    );
    assert_eq!(
        k.resolve(Layer::Confirm, none, key("S")),
        Resolution::Unbound
    );
    // Help closes with ?, q or Esc and scrolls with the global motions.
    assert_eq!(k.resolve(Layer::Help, none, key("q")), act("back"));
    assert_eq!(k.resolve(Layer::Help, none, key("j")), act("move down"));
    // The confirm popup switches buttons with Tab/h/l and scrolls a long question with j/k.
    assert_eq!(
        k.resolve(Layer::Confirm, none, key("<Tab>")),
        act("confirm:switch")
    );
    assert_eq!(k.resolve(Layer::Confirm, none, key("j")), act("move down"));
    // The failures keys: R retries the row's reason, C its class, c opens its contact, y copies.
    assert_eq!(
        k.resolve(Layer::Failures, none, key("R")),
        act("sync:retry --selected-reason")
    );
    assert_eq!(
        k.resolve(Layer::Failures, none, key("C")),
        act("sync:retry --selected-class")
    );
    assert_eq!(
        k.resolve(Layer::Failures, none, key("c")),
        act("jump:contact")
    );
    assert_eq!(k.resolve(Layer::Failures, none, key("y")), act("copy:id"));
    let _ = PromptKind::Command;
}

#[test]
fn multi_key_sequences_are_pending_then_run() {
    let k = builtin();
    let g = key("g");
    assert_eq!(k.resolve(Layer::Contacts, &[], g), Resolution::Pending);
    assert_eq!(k.resolve(Layer::Contacts, &[g], g), act("move top"));
    assert_eq!(
        k.resolve(Layer::Contacts, &[g], key("z")),
        Resolution::Unbound
    );
    let hints = k.continuations(Layer::Contacts, &[g]);
    assert_eq!(hints.len(), 1);
    assert_eq!(hints[0].keys, "g g");

    // A layer's own sequence and global's share the prefix.
    let (k, warnings) = with_user(
        r#"
[sync_log]
prepend_keymap = [ { on = ["g", "l"], run = "focus sync_log", desc = "Log" } ]
"#,
    );
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(k.resolve(Layer::SyncLog, &[], g), Resolution::Pending);
    assert_eq!(
        k.resolve(Layer::SyncLog, &[g], key("l")),
        act("focus sync_log")
    );
    assert_eq!(k.resolve(Layer::SyncLog, &[g], g), act("move top"));
    assert_eq!(k.continuations(Layer::SyncLog, &[g]).len(), 2);
    assert_eq!(
        k.resolve(Layer::Contacts, &[g], key("l")),
        Resolution::Unbound
    );
}

#[test]
fn crossterm_events_resolve_after_normalisation() {
    let k = builtin();
    let ev = |code, mods| Key::from(KeyEvent::new(code, mods));
    let l = Layer::Failures;
    assert_eq!(
        k.resolve(l, &[], ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        act("move bottom")
    );
    assert_eq!(
        k.resolve(l, &[], ev(KeyCode::Char('G'), KeyModifiers::NONE)),
        act("move bottom")
    );
    assert_eq!(
        k.resolve(l, &[], ev(KeyCode::Char('x'), KeyModifiers::SHIFT)),
        act("sync:resolve --selected")
    );
    assert_eq!(
        k.resolve(l, &[], ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
        act("focus prev")
    );
    assert_eq!(
        k.resolve(l, &[], ev(KeyCode::Char('z'), KeyModifiers::CONTROL)),
        act("suspend")
    );
    assert_eq!(
        k.resolve(l, &[], ev(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        act("help")
    );
}

#[test]
fn user_prepend_overrides_append_adds_noop_unbinds() {
    let (k, warnings) = with_user(
        r#"
[failures]
prepend_keymap = [
  { on = "r",     run = "sync:retry --original --selected", desc = "Retry original" },
  { on = "x",     run = "noop" },
]
append_keymap = [
  { on = "<F5>",  run = ["sync:now", "focus sync_log"], desc = "Sync and watch" },
]

[[global.prepend_keymap]]
on = "q"
run = "noop"

[contacts]
prepend_keymap = [ { on = "j", run = "noop" } ]
"#,
    );
    assert!(warnings.is_empty(), "{warnings:#?}");
    let f = Layer::Failures;
    assert_eq!(
        k.resolve(f, &[], key("r")),
        act("sync:retry --original --selected")
    );
    assert_eq!(k.resolve(f, &[], key("x")), Resolution::Unbound);
    assert_eq!(
        k.resolve(f, &[], key("<F5>")),
        Resolution::Action(vec![
            Action::SyncNow,
            Action::Focus(FocusTarget::Screen(Screen::SyncLog))
        ])
    );
    // The rest of the default stays.
    assert_eq!(k.resolve(f, &[], key("X")), act("sync:resolve --selected"));
    // noop in global unbinds everywhere; noop in a layer shadows global there only.
    assert_eq!(k.resolve(f, &[], key("q")), Resolution::Unbound);
    assert_eq!(
        k.resolve(Layer::Contacts, &[], key("j")),
        Resolution::Unbound
    );
    assert_eq!(k.resolve(Layer::Tasks, &[], key("j")), act("move down"));
    // Help no longer lists the unbound chords, and shows the override once, with its desc.
    let help = k.visible_bindings(f);
    assert!(
        !help.iter().any(|b| b.keys == "x" || b.keys == "q"),
        "{help:#?}"
    );
    let r: Vec<_> = help.iter().filter(|b| b.keys == "r").collect();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].desc.as_deref(), Some("Retry original"));
    assert!(help.iter().any(|b| b.keys == "<F5>"));
    assert!(
        !k.visible_bindings(Layer::Contacts)
            .iter()
            .any(|b| b.keys == "j")
    );
}

#[test]
fn a_noop_prefix_keeps_longer_chords() {
    let (k, warnings) =
        with_user("[global]\nprepend_keymap = [ { on = \"g\", run = \"noop\" } ]\n");
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(
        k.resolve(Layer::Contacts, &[], key("g")),
        Resolution::Pending
    );
}

#[test]
fn user_keymap_replaces_a_layers_defaults() {
    let (k, warnings) = with_user("[help]\nkeymap = [ { on = \"<F1>\", run = \"back\" } ]\n");
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(k.bindings(Layer::Help).len(), 1);
    assert_eq!(k.resolve(Layer::Help, &[], key("<F1>")), act("back"));
    // `q` is no longer bound in help, so global's quit applies.
    assert_eq!(k.resolve(Layer::Help, &[], key("q")), act("quit"));
}

fn has_warning(warnings: &[KeymapWarning], line: usize, col: usize, needle: &str) -> bool {
    warnings.iter().any(|w| {
        w.file == "user.toml"
            && w.line == Some(line)
            && w.col == Some(col)
            && w.message.contains(needle)
    })
}

#[test]
fn bad_keys_and_unknown_actions_warn_with_line_col_and_are_skipped() {
    let text = r#"[failures]
prepend_keymap = [
  { on = "<Hyper-x>", run = "quit" },
  { on = "z", run = "launch --rockets" },
  { on = "Z", run = "sync:retry --class nope" },
  { on = "y", run = "help", when = "always" },
  { on = [], run = "help" },
  { on = "v", run = "help", desc = 3 },
  { run = "help" },
  { on = "r", run = "quit" },
  { on = "r", run = "help" },
]
append_keymap = [ { on = "X", run = "quit" } ]

[failure]
keymap = []

[tasks]
prepend = []
"#;
    let (k, warnings) = with_user(text);
    let show = format!("{warnings:#?}");
    assert!(
        has_warning(&warnings, 3, 10, "bad key \"<Hyper-x>\""),
        "{show}"
    );
    assert!(
        has_warning(&warnings, 4, 21, "unknown action \"launch\""),
        "{show}"
    );
    assert!(
        has_warning(&warnings, 5, 21, "unknown error class \"nope\""),
        "{show}"
    );
    assert!(
        has_warning(&warnings, 6, 29, "unknown field \"when\""),
        "{show}"
    );
    assert!(has_warning(&warnings, 7, 10, "empty array"), "{show}");
    assert!(
        has_warning(&warnings, 8, 36, "\"desc\" must be a string"),
        "{show}"
    );
    assert!(has_warning(&warnings, 9, 3, "without \"on\""), "{show}");
    assert!(
        has_warning(&warnings, 11, 3, "duplicate chord \"r\""),
        "{show}"
    );
    assert!(
        has_warning(&warnings, 13, 19, "append_keymap only fills gaps"),
        "{show}"
    );
    assert!(
        has_warning(&warnings, 15, 1, "unknown layer [failure]"),
        "{show}"
    );
    assert!(
        has_warning(&warnings, 19, 11, "unknown section \"prepend\""),
        "{show}"
    );
    assert_eq!(warnings.len(), 11, "{show}");
    // Bad entries are skipped; good ones (with an ignored field or desc) still apply.
    let f = Layer::Failures;
    assert_eq!(k.resolve(f, &[], key("z")), Resolution::Unbound);
    assert_eq!(k.resolve(f, &[], key("y")), act("help"));
    assert_eq!(k.resolve(f, &[], key("v")), act("help"));
    assert_eq!(
        k.resolve(f, &[], key("r")),
        act("quit"),
        "the first of duplicates wins"
    );
    assert_eq!(k.resolve(f, &[], key("X")), act("sync:resolve --selected"));
    // Display names file:line:col.
    assert!(
        warnings[0].to_string().starts_with("user.toml:"),
        "{}",
        warnings[0]
    );
}

#[test]
fn a_toml_syntax_error_warns_once_and_keeps_the_default() {
    let (k, warnings) =
        with_user("[global]\nprepend_keymap = [\n  { on = \"q\", run = \"noop\" \n");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(w.file, "user.toml");
    assert!(w.line.is_some() && w.col.is_some(), "{w}");
    assert!(w.message.contains("ignoring this file"), "{w}");
    assert_eq!(k, builtin());

    // A wrong shape (a layer that is not a table) is also a whole-file warning with a position.
    let (k, warnings) = with_user("[global]\nprepend_keymap = \"q\"\n");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].line, Some(2), "{}", warnings[0]);
    assert_eq!(k, builtin());
}

#[test]
fn prefix_clashes_warn() {
    let (_, warnings) = with_user("[global]\nappend_keymap = [ { on = \"g\", run = \"help\" } ]\n");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].message.contains("\"g\" and \"g g\" clash"),
        "{}",
        warnings[0]
    );
    assert_eq!(warnings[0].line, Some(2));
}

#[test]
fn load_and_check_read_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("keymap.toml");
    // A missing user file is normal for load, a warning for check.
    let (k, warnings) = Keymap::load(Some(&missing));
    assert!(warnings.is_empty());
    assert_eq!(k, builtin());
    let warnings = check(&missing);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains("cannot read"),
        "{}",
        warnings[0]
    );

    std::fs::write(
        &missing,
        "[global]\nprepend_keymap = [ { on = \"Q\", run = \"quit\", desc = \"Quit\" } ]\n",
    )
    .unwrap();
    assert!(check(&missing).is_empty());
    let (k, warnings) = Keymap::load(Some(&missing));
    assert!(warnings.is_empty());
    assert_eq!(k.resolve(Layer::Status, &[], key("<S-q>")), act("quit"));

    std::fs::write(
        &missing,
        "[global]\nprepend_keymap = [ { on = \"Q\", run = \"exit\" } ]\n",
    )
    .unwrap();
    let warnings = check(&missing);
    assert_eq!(warnings.len(), 1);
    let shown = warnings[0].to_string();
    assert!(
        shown.starts_with(&format!("{}:2:38: ", missing.display())),
        "{shown}"
    );

    let dirs = crate::config::paths::Dirs {
        config_dir: dir.path().to_path_buf(),
        state_dir: dir.path().join("s"),
        data_dir: dir.path().join("d"),
    };
    assert_eq!(user_keymap_path(&dirs), missing);
}
