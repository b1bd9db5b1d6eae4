//! The command line, as clap types. The `ghl` subtree's shape is a contract other tools script
//! against: change it only with a deprecation.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ghlsync",
    version,
    about = "Sync HighLevel (GHL) with peer apps, and inspect it all from a terminal."
)]
pub struct Cli {
    /// Config file (default: ghlsync.toml in the XDG config dir).
    #[arg(long, global = true, value_name = "PATH", env = "GHLSYNC_CONFIG")]
    pub config: Option<PathBuf>,
    /// The store directory (default: [store] path in the config, else the XDG data dir).
    #[arg(long, global = true, value_name = "PATH", env = "GHLSYNC_STORE")]
    pub store: Option<PathBuf>,
    /// Bind the store to the GHL location and peer account the config names even though it is
    /// bound to others (the location really moved, e.g. GHL migrated the sub-account). Logged.
    #[arg(long, global = true)]
    pub rebind_store: bool,
    /// Log level or filter for the log file (error, warn, info, debug, trace, or RUST_LOG syntax).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// The console's flags, for `ghlsync` without a subcommand (the console is the default).
    #[command(flatten)]
    pub console: ConsoleArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The terminal console (the default with no subcommand); demo mode without a config.
    Console(ConsoleArgs),
    /// Call the GHL API directly with the configured credentials (troubleshooting).
    Ghl(GhlArgs),
    /// Serve emulated GHL APIs on 127.0.0.1 with seeded data, rate limits and faults.
    Sandbox(SandboxArgs),
    /// Show or check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run one sync between a peer and GHL.
    Sync(SyncArgs),
    /// The failed-sync queue: list, show, retry, skip, resolve.
    #[command(subcommand)]
    Failures(FailuresCommand),
    /// The sync log: one line per record outcome.
    Log(LogArgs),
    /// Cursors, queue sizes, last runs and rate-limit state.
    Status(StatusArgs),
    /// Check a mapping file, or preview it on a real record.
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Check a connector file (`connector = "rest"`), or read one page through it.
    #[command(subcommand)]
    Connector(ConnectorCommand),
    /// Back up, restore or export the store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Check the console keymap, or print the default one.
    #[command(subcommand)]
    Keymap(KeymapCommand),
    /// Print a shell completion script (e.g. `ghlsync completions bash > ~/.local/share/bash-completion/completions/ghlsync`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page as roff (e.g. `ghlsync man > ~/.local/share/man/man1/ghlsync.1`).
    #[command(alias = "manpage")]
    Man {
        /// A subcommand's own page, ghlsync-SUBCOMMAND(1) (e.g. `ghlsync man sync >
        /// ~/.local/share/man/man1/ghlsync-sync.1`); the top page without it.
        subcommand: Option<String>,
    },
    /// The always-on service of one GHL location: schedules, webhooks, the control socket
    /// consoles attach to, alerts; SIGTERM drains, SIGHUP reloads (README "Running as a service").
    Run(RunArgs),
    /// Check the setup, a line each: config and file modes, the store, the GHL token (scopes,
    /// expiry, rate-limit headroom), each peer, the webhook receiver, clock skew.
    Doctor(DoctorArgs),
    /// OAuth: log in (the code flow, over SSH or with a local browser); an agency's installed
    /// locations and location tokens.
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Log to stderr (journald) or the rotating file; overrides `[service] log_to`.
    #[arg(long, value_name = "TARGET", value_enum)]
    pub log_to: Option<LogTo>,
    /// Text or JSON lines; overrides `[service] log_format`.
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub log_format: Option<LogFormatArg>,
}

/// `run --log-to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogTo {
    Stderr,
    File,
}

/// `run --log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

impl ConsoleArgs {
    /// Whether any console flag was given (`--peer` aside, which other commands have too).
    pub fn any(&self) -> bool {
        self.read_only || self.ephemeral || self.demo || self.mouse || !self.demo_peers.is_empty()
    }

    /// These flags with `other`'s added (`ghlsync --read-only console --demo`).
    pub fn merged(self, other: ConsoleArgs) -> ConsoleArgs {
        ConsoleArgs {
            read_only: self.read_only || other.read_only,
            ephemeral: self.ephemeral || other.ephemeral,
            demo: self.demo || other.demo,
            mouse: self.mouse || other.mouse,
            peer: other.peer,
            demo_peers: if other.demo_peers.is_empty() {
                self.demo_peers
            } else {
                other.demo_peers
            },
        }
    }
}

impl Command {
    /// Whether the command was asked for JSON (`--json`): its errors are then printed once, as
    /// JSON, on stderr.
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Ghl(args) => args.json,
            Command::Sync(args) => args.json,
            Command::Failures(FailuresCommand::List { json, .. }) => *json,
            Command::Log(args) => args.json,
            Command::Status(args) => args.json,
            Command::Store(StoreCommand::Verify { json }) => *json,
            Command::Connector(ConnectorCommand::Try { json, .. }) => *json,
            Command::Doctor(args) => args.json,
            Command::Auth(AuthCommand::Locations(args)) => args.json,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct ConsoleArgs {
    /// Hide and refuse every write action (sync, retry, skip, resolve, mapping save/undo); the
    /// engine refuses them too, in process or through a running service.
    #[arg(long)]
    pub read_only: bool,
    /// Demo mode with a temporary store, deleted on exit.
    #[arg(long)]
    pub ephemeral: bool,
    /// Demo mode (in-process sandboxes) even when a configuration exists.
    #[arg(long)]
    pub demo: bool,
    /// Capture the mouse: the wheel scrolls lists (off by default, so the terminal's own
    /// selection and copy keep working over SSH).
    #[arg(long)]
    pub mouse: bool,
    /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
    #[arg(long, value_name = "NAME")]
    pub peer: Option<String>,
    /// Demo mode with only these emulated peers (comma-separated, e.g. repsly); default: every
    /// one the sandbox emulates.
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    pub demo_peers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The peer: its [peers.NAME] in the config (default: every peer, or the only one). "One
    /// peer now": with a service running (`ghlsync run`) the run happens there, attached.
    #[arg(long, value_name = "NAME")]
    pub peer: Option<String>,
    /// Only these entities (contact, task, note, appointment); repeatable.
    #[arg(long = "entity", value_name = "E")]
    pub entities: Vec<String>,
    /// Print the plan (create / update / delete / skip with field diffs) and write nothing anywhere.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop after N writes.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Read everything from the start, ignoring cursors (unchanged records still cost nothing).
    #[arg(long)]
    pub full: bool,
    /// Print the run report as JSON.
    #[arg(long)]
    pub json: bool,
    /// One contact now: its GHL id (or `ghl:ID`), or `peer:ID` for a peer record's id (found
    /// through its link). Every peer that syncs contacts gets it; through the running service
    /// when one is attached, else in this process.
    #[arg(long, value_name = "ID", conflicts_with_all = ["peer", "entities", "dry_run", "limit", "full"])]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct Which {
    /// Operation ids.
    pub ids: Vec<u64>,
    /// Every operation whose last error has this class (e.g. validation, transient, auth).
    #[arg(long, value_name = "CLASS", conflicts_with = "ids")]
    pub class: Option<String>,
    /// Every operation whose failure has this reason code (e.g. no_match_key,
    /// peer_requires_field; `failures list` shows them, README "Failures" lists them all).
    #[arg(long, value_name = "CODE", conflicts_with_all = ["ids", "class"])]
    pub reason: Option<String>,
    /// Every operation in the queue.
    #[arg(long, conflicts_with_all = ["ids", "class", "reason"])]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum FailuresCommand {
    /// The queue, grouped by error class, then by reason code.
    List {
        /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
        /// Only the failures with this reason code.
        #[arg(long, value_name = "CODE")]
        reason: Option<String>,
        /// Print as JSON (compact; errors as JSON on stderr).
        #[arg(long)]
        json: bool,
    },
    /// One operation in full: payload, source record, last error.
    Show {
        /// The operation's id (from `failures list`).
        id: u64,
        /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
    },
    /// Retry now, with the current mapping (default) or the original payload.
    Retry {
        #[command(flatten)]
        which: Which,
        /// Resend the exact payload that failed instead of mapping the record again.
        #[arg(long)]
        original: bool,
        /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
    },
    /// Give up on them (they stay in the log).
    Skip {
        #[command(flatten)]
        which: Which,
        /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
    },
    /// Mark them fixed by hand.
    Resolve {
        #[command(flatten)]
        which: Which,
        /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Entries to show from the end.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Keep printing new entries as they are written.
    #[arg(long)]
    pub follow: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// CSV instead (a header, then the last --limit entries; raise --limit for more).
    #[arg(long, conflicts_with_all = ["json", "follow"])]
    pub csv: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
    #[arg(long, value_name = "NAME")]
    pub peer: Option<String>,
    /// Print as JSON (compact; errors as JSON on stderr).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Validate a mapping file (default: the one in force for the peer), and check the GHL
    /// custom fields it names against the location (when GHL credentials are configured).
    Check {
        /// The mapping file (default: the mapping in force for the peer).
        file: Option<PathBuf>,
        /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
        /// Create the custom fields the mapping names that the GHL location lacks (TEXT, or
        /// PHONE/NUMERICAL when the rule makes phone numbers or numbers); needs GHL credentials.
        #[arg(long)]
        create_fields: bool,
    },
    /// Apply a mapping to one real record and show before/after per field: a peer record as it
    /// would go to GHL, or (--ghl) a GHL contact as it would go to the peer, in the peer's names.
    Preview {
        /// The peer record's id (Repsly: the client Code).
        #[arg(long, required_unless_present = "ghl", conflicts_with = "ghl")]
        id: Option<String>,
        /// A GHL contact's id: preview GHL → peer.
        #[arg(long, value_name = "GHL_ID")]
        ghl: Option<String>,
        /// The entity: contact, task, note or appointment.
        #[arg(long, default_value = "contact")]
        entity: String,
        /// The mapping file (default: the mapping in force for the peer).
        file: Option<PathBuf>,
        /// The peer: its [peers.NAME] in the config (default: every peer, or the only one).
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
    },
    /// Print the built-in default mapping of a peer.
    Default {
        /// A configured peer (its [peers.NAME]) or a connector (repsly, …); default: the only peer.
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Validate a connector file: each mistake with its line:column and the valid choices.
    Check {
        /// The connector file (e.g. assets/connectors/crm-offset.toml).
        file: PathBuf,
    },
    /// Read the first page of an entity through a connector file and show its records (and,
    /// with --mapping, the GHL fields the mapping would write); writes nothing. Secrets come
    /// from GHLSYNC_<NAME>_<SECRET> (NAME: the file's `name`; `connector check` lists them).
    Try {
        /// The connector file.
        file: PathBuf,
        /// The entity: contact, task, note or appointment.
        #[arg(long, default_value = "contact")]
        entity: String,
        /// Use this base URL instead of the file's (a sandbox, a staging server).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// A mapping file: also show each record as it would go to GHL.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Print as JSON (compact; errors as JSON on stderr).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Write a backup file (owner-only), ending in a checksummed line restore checks.
    Backup {
        /// The backup file to write (refused if it exists, unless --force).
        path: PathBuf,
        /// Replace an existing file at PATH.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into the store path, which must not hold a store yet: all or nothing.
    Restore {
        /// The backup file (`store backup` writes one).
        path: PathBuf,
        /// Accept a backup without its end line (one written before ghlsync wrote end lines).
        /// Such a backup cannot show it is complete: a file cut at a line boundary restores
        /// without its last records.
        #[arg(long)]
        no_trailer_check: bool,
    },
    /// Check the store: values decode, links point both ways, children have their contact,
    /// nothing in flight, the state index matches. Exit 12 when something is found.
    Verify {
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print every record as JSON Lines.
    Export {
        /// JSON Lines, one record per line (the one format; required so others can follow).
        #[arg(long, required = true)]
        jsonl: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeymapCommand {
    /// Validate a keymap file layered over the default; exit 3 if it has warnings.
    Check {
        /// The keymap (default: keymap.toml in the XDG config dir, beside ghlsync.toml).
        file: Option<PathBuf>,
    },
    /// Print the built-in default keymap.
    Default,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print where the config and secrets files are looked for.
    Path,
    /// Load and validate the config and secrets; print the result with secrets redacted.
    Check,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed for the generated data: the same seed gives the same records.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of seeded contacts.
    #[arg(long, default_value_t = 2000)]
    pub contacts: usize,
    /// Burst limit as MAX/INTERVAL (e.g. 100/10s, 100/1s), or "off".
    #[arg(long, default_value = "100/10s", value_name = "MAX/INTERVAL")]
    pub rate_limit: String,
    /// Daily request quota, or "off".
    #[arg(long, default_value = "200000", value_name = "N")]
    pub daily: String,
    /// Fraction of API requests that fail with an injected fault (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub fault_rate: f64,
    /// Added latency per request, e.g. 5ms..50ms.
    #[arg(long, value_name = "MIN..MAX")]
    pub latency: Option<String>,
    /// Lifetime of OAuth access tokens minted by /oauth/token, e.g. 24h, 30s.
    #[arg(long, default_value = "86399s", value_name = "DURATION")]
    pub token_ttl: String,
    /// Write a ready ghlsync.toml pointing at this sandbox (secrets.toml, 0600, beside it).
    /// Refused when either file exists, unless --force.
    #[arg(long, value_name = "PATH")]
    pub write_config: Option<PathBuf>,
    /// With --write-config: replace an existing ghlsync.toml and secrets.toml (their token and
    /// passwords are lost).
    #[arg(long, requires = "write_config")]
    pub force: bool,
    /// With --write-config: only these emulated peers in the config (comma-separated, e.g.
    /// repsly); default: every peer the sandbox emulates.
    #[arg(
        long,
        value_name = "NAME,…",
        value_delimiter = ',',
        requires = "write_config"
    )]
    pub peers: Vec<String>,
    /// With --write-config: the `[service] listen` address (HOST:PORT) of the written config;
    /// the sandbox's webhooks then go to http://HOST:PORT/webhooks/ghl, and its Ed25519 test
    /// key is written into `[service.webhooks] ed25519_keys`.
    #[arg(long, value_name = "HOST:PORT", requires = "write_config")]
    pub service_listen: Option<String>,
}

#[derive(Debug, Args)]
pub struct GhlArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Compact JSON on stdout (default: pretty when stdout is a terminal); errors as JSON on stderr.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: GhlCommand,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// GHL API base URL (default from config: https://services.leadconnectorhq.com).
    #[arg(long, global = true, env = "GHLSYNC_GHL_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Sub-account (location) id.
    #[arg(
        long,
        global = true,
        env = "GHLSYNC_GHL_LOCATION_ID",
        value_name = "ID"
    )]
    pub location: Option<String>,
    /// Bearer token (Private Integration Token or access token). Prefer the env var: arguments
    /// are visible to other users in `ps`.
    #[arg(
        long,
        global = true,
        env = "GHLSYNC_GHL_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum GhlCommand {
    /// Contacts.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Contact tags.
    #[command(subcommand)]
    Tag(TagCommand),
    /// A contact's tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// A contact's notes.
    #[command(subcommand)]
    Note(NoteCommand),
    /// Appointments (calendar events).
    #[command(subcommand)]
    Appointment(AppointmentCommand),
    /// Calendars.
    #[command(subcommand)]
    Calendar(CalendarCommand),
}

/// A JSON request body: inline JSON, `@FILE`, or `-` for stdin.
#[derive(Debug, Clone, Args)]
pub struct BodyArg {
    /// The request body: inline JSON, @FILE, or - for stdin (at most 10 MB).
    #[arg(long, value_name = "JSON")]
    pub body: String,
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// One contact.
    Get {
        /// The contact id.
        id: String,
    },
    /// A page of contacts (or every page with --all).
    List {
        /// Search text (name, email, phone, company).
        #[arg(long)]
        query: Option<String>,
        /// Page size (1 to 100).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: u32,
        /// Follow the cursor through every page.
        #[arg(long)]
        all: bool,
    },
    /// Search with a SearchBodyV2DTO body.
    Search(BodyArg),
    /// Contacts of a business.
    ByBusiness {
        /// The business id.
        business_id: String,
    },
    #[command(group(clap::ArgGroup::new("key").required(true).args(["email", "phone"])))]
    /// The contact GHL's duplicate rules find for an email or phone.
    Duplicate {
        /// The email to look for.
        #[arg(long)]
        email: Option<String>,
        /// The phone to look for.
        #[arg(long)]
        phone: Option<String>,
    },
    /// Create (locationId is filled in from config).
    Create(BodyArg),
    /// Update a contact (PUT).
    Update {
        /// The contact id.
        id: String,
        #[command(flatten)]
        body: BodyArg,
    },
    /// Create or update by GHL's duplicate rules (email, phone).
    Upsert(BodyArg),
    /// Delete a contact.
    Delete {
        /// The contact id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TagCommand {
    /// Add tags to a contact.
    Add {
        /// The contact id.
        id: String,
        /// The tags.
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Remove tags from a contact.
    Remove {
        /// The contact id.
        id: String,
        /// The tags.
        #[arg(required = true)]
        tags: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// A contact's tasks.
    List {
        /// The contact id.
        contact_id: String,
    },
    /// One task.
    Get {
        /// The contact id.
        contact_id: String,
        /// The task id.
        task_id: String,
    },
    /// Create a task.
    Create {
        /// The contact id.
        contact_id: String,
        #[command(flatten)]
        body: BodyArg,
    },
    /// Update a task.
    Update {
        /// The contact id.
        contact_id: String,
        /// The task id.
        task_id: String,
        #[command(flatten)]
        body: BodyArg,
    },
    /// Mark completed (or not completed with --undo).
    Complete {
        /// The contact id.
        contact_id: String,
        /// The task id.
        task_id: String,
        /// Mark it not completed.
        #[arg(long)]
        undo: bool,
    },
    /// Delete a task.
    Delete {
        /// The contact id.
        contact_id: String,
        /// The task id.
        task_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NoteCommand {
    /// A contact's notes.
    List {
        /// The contact id.
        contact_id: String,
    },
    /// One note.
    Get {
        /// The contact id.
        contact_id: String,
        /// The note id.
        note_id: String,
    },
    /// Create a note.
    Create {
        /// The contact id.
        contact_id: String,
        #[command(flatten)]
        body: BodyArg,
    },
    /// Update a note.
    Update {
        /// The contact id.
        contact_id: String,
        /// The note id.
        note_id: String,
        #[command(flatten)]
        body: BodyArg,
    },
    /// Delete a note.
    Delete {
        /// The contact id.
        contact_id: String,
        /// The note id.
        note_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppointmentCommand {
    /// A contact's appointments.
    List {
        /// The contact id.
        contact_id: String,
    },
    /// One appointment.
    Get {
        /// The event id.
        event_id: String,
    },
    /// Create (toNotify defaults to false: a sync never messages a customer).
    Create(BodyArg),
    /// Update an appointment.
    Update {
        /// The event id.
        event_id: String,
        #[command(flatten)]
        body: BodyArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The location's calendars.
    List,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn duplicate_needs_email_or_phone() {
        let parsed = Cli::try_parse_from(["ghlsync", "ghl", "contact", "duplicate"]);
        assert!(parsed.is_err());
        let parsed = Cli::try_parse_from([
            "ghlsync",
            "ghl",
            "contact",
            "duplicate",
            "--phone",
            "+15550100",
        ]);
        assert!(parsed.is_ok());
    }

    #[test]
    fn the_console_flags_work_without_its_name() {
        let cli = Cli::try_parse_from(["ghlsync", "--read-only", "--demo"]).unwrap();
        assert!(cli.command.is_none());
        assert!(cli.console.read_only && cli.console.demo);
        let cli = Cli::try_parse_from(["ghlsync", "--read-only", "console", "--demo"]).unwrap();
        let Some(Command::Console(args)) = cli.command else {
            panic!("console")
        };
        let merged = cli.console.merged(args);
        assert!(merged.read_only && merged.demo);
    }

    #[test]
    fn list_limit_is_bounded() {
        assert!(
            Cli::try_parse_from(["ghlsync", "ghl", "contact", "list", "--limit", "101"]).is_err()
        );
    }
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the checks as a JSON array of `{check, status, detail, fix}`.
    #[arg(long)]
    pub json: bool,
}
/// `ghlsync auth …`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// The OAuth code flow: print the authorize URL, take the redirect back (pasted, or caught
    /// with --listen), exchange the code and save the token pair (0600).
    Login(AuthLoginArgs),
    /// An agency app's installed locations (`/oauth/installedLocations`).
    Locations(AuthLocationsArgs),
    /// Mint a location token with the agency token (`/oauth/locationToken`) and save it as this
    /// config's token file.
    LocationToken(AuthLocationTokenArgs),
}

/// Where the app and its tokens are; flags override the config (`[ghl] client_id`,
/// `token_file`, `base_url`).
#[derive(Debug, Clone, Args)]
pub struct AuthAppArgs {
    /// The marketplace app's client id (default: `[ghl] client_id`).
    #[arg(long, env = "GHLSYNC_GHL_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// The GHL API (default: `[ghl] base_url`).
    #[arg(long, env = "GHLSYNC_GHL_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// The location token file (default: `[ghl] token_file`, else ghl-oauth-token.json in the
    /// XDG state dir).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// The agency token file (default: ghl-agency-token.json in the XDG state dir).
    #[arg(long, value_name = "PATH")]
    pub agency_token_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuthLoginArgs {
    #[command(flatten)]
    pub app: AuthAppArgs,
    /// The redirect URI registered with the app (e.g. http://127.0.0.1:8976/callback).
    #[arg(long, env = "GHLSYNC_GHL_REDIRECT_URI", value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// Catch the redirect on the redirect URI's loopback port (a browser on this machine)
    /// instead of reading it from stdin.
    #[arg(long)]
    pub listen: bool,
    /// How long --listen waits for the browser.
    #[arg(
        long,
        default_value = "10m",
        value_name = "DURATION",
        requires = "listen"
    )]
    pub wait: String,
    /// An agency (Company) login: saved to the agency token file, for `auth locations` and
    /// `auth location-token`.
    #[arg(long)]
    pub agency: bool,
    /// The authorize page's host: marketplace.leadconnectorhq.com for white-label apps.
    #[arg(
        long,
        env = "GHLSYNC_GHL_AUTHORIZE_HOST",
        default_value = "marketplace.gohighlevel.com",
        value_name = "HOST"
    )]
    pub host: String,
    /// The scopes to ask for (comma-separated; default: what the sync needs, plus oauth.readonly
    /// and oauth.write with --agency).
    #[arg(long, value_delimiter = ',', value_name = "SCOPE,…")]
    pub scope: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AuthLocationsArgs {
    #[command(flatten)]
    pub app: AuthAppArgs,
    /// The app id (default: the client id's part before its `-`).
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    /// The agency's company id (default: the one the agency token file names).
    #[arg(long, value_name = "ID")]
    pub company: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuthLocationTokenArgs {
    #[command(flatten)]
    pub app: AuthAppArgs,
    /// The location to mint a token for.
    #[arg(long, value_name = "ID")]
    pub location: String,
    /// The agency's company id (default: the one the agency token file names).
    #[arg(long, value_name = "ID")]
    pub company: Option<String>,
}
