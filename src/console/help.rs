//! The help popup's content, built from the keymap itself (k9s: help from the same tables
//! that handle the keys), with write actions left out under `--read-only`.

use crate::console::keymap::{Keymap, Layer};
use crate::console::state::{HelpBinding, HelpSection};

pub fn help_sections(keymap: &Keymap, read_only: bool) -> Vec<HelpSection> {
    Layer::ALL
        .iter()
        .map(|&layer| HelpSection {
            layer,
            bindings: keymap
                .bindings(layer)
                .into_iter()
                .filter(|binding| !(read_only && binding.is_write()))
                .map(|binding| HelpBinding {
                    hint: binding.hint.clone(),
                    desc: binding.desc.clone().unwrap_or_else(|| {
                        binding
                            .actions
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }),
                    action: binding
                        .actions
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    keys: binding.keys,
                })
                .collect(),
        })
        .filter(|section| !section.bindings.is_empty())
        .collect()
}
