//! `ghlsync ghl …`: one subcommand per GHL call. Bodies are checked against the DTO locally, so a
//! misspelt field is refused before any request (and any rate-limit token) is spent.

use super::args::{
    AppointmentCommand, BodyArg, CalendarCommand, ContactCommand, GhlArgs, GhlCommand, NoteCommand,
    TagCommand, TaskCommand,
};
use super::output::print_json;
use super::{CliError, connection};
use crate::ghl::models::{
    AppointmentCreateDto, AppointmentEditDto, ContactSearchBody, CreateContactDto,
    CreateTaskParams, NotesDto, UpdateContactDto, UpdateNoteDto, UpdateTaskBody, UpsertContactDto,
};
use crate::ghl::{GhlClient, ListContacts, parse_body};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;

/// Pages fetched at most by `contact list --all` (100 per page: a million contacts).
const MAX_LIST_PAGES: usize = 10_000;

pub async fn run(config: Option<&Path>, args: GhlArgs) -> Result<(), CliError> {
    let compact = args.json;
    let settings = connection::client_settings(config, &args.connection)?;
    let client = GhlClient::new(settings)?;
    // With --json a failure is printed once, as JSON, by `cli::run` (`CliError::report_json`).
    let value = call(&client, args.command).await?;
    print_json(&value, compact)
}

async fn call(client: &GhlClient, command: GhlCommand) -> Result<Value, CliError> {
    match command {
        GhlCommand::Contact(command) => contact(client, command).await,
        GhlCommand::Tag(command) => tag(client, command).await,
        GhlCommand::Task(command) => task(client, command).await,
        GhlCommand::Note(command) => note(client, command).await,
        GhlCommand::Appointment(command) => appointment(client, command).await,
        GhlCommand::Calendar(CalendarCommand::List) => to_value(client.list_calendars().await?),
    }
}

async fn contact(client: &GhlClient, command: ContactCommand) -> Result<Value, CliError> {
    match command {
        ContactCommand::Get { id } => to_value(client.get_contact(&id).await?),
        ContactCommand::List { query, limit, all } if all => {
            let contacts = client
                .list_all_contacts(query.as_deref(), limit, MAX_LIST_PAGES)
                .await?;
            Ok(json!({"count": contacts.len(), "contacts": contacts}))
        }
        ContactCommand::List { query, limit, .. } => {
            let page = ListContacts {
                query,
                limit,
                ..ListContacts::default()
            };
            to_value(client.list_contacts_page(&page).await?)
        }
        ContactCommand::Search(body) => {
            let body: ContactSearchBody = read_body(&body, "SearchBodyV2DTO")?;
            to_value(client.search_contacts(&body).await?)
        }
        ContactCommand::ByBusiness { business_id } => to_value(
            client
                .contacts_by_business(&business_id, None, None, None)
                .await?,
        ),
        ContactCommand::Duplicate { email, phone } => to_value(
            client
                .find_duplicate(email.as_deref(), phone.as_deref())
                .await?,
        ),
        ContactCommand::Create(body) => {
            let dto: CreateContactDto = read_body(&body, "CreateContactDto")?;
            to_value(client.create_contact(&dto).await?)
        }
        ContactCommand::Update { id, body } => {
            let dto: UpdateContactDto = read_body(&body, "UpdateContactDto")?;
            to_value(client.update_contact(&id, &dto).await?)
        }
        ContactCommand::Upsert(body) => {
            let dto: UpsertContactDto = read_body(&body, "UpsertContactDto")?;
            to_value(client.upsert_contact(&dto).await?)
        }
        ContactCommand::Delete { id } => to_value(client.delete_contact(&id).await?),
    }
}

async fn tag(client: &GhlClient, command: TagCommand) -> Result<Value, CliError> {
    match command {
        TagCommand::Add { id, tags } => to_value(client.add_tags(&id, &tags).await?),
        TagCommand::Remove { id, tags } => to_value(client.remove_tags(&id, &tags).await?),
    }
}

async fn task(client: &GhlClient, command: TaskCommand) -> Result<Value, CliError> {
    match command {
        TaskCommand::List { contact_id } => to_value(client.list_tasks(&contact_id).await?),
        TaskCommand::Get {
            contact_id,
            task_id,
        } => to_value(client.get_task(&contact_id, &task_id).await?),
        TaskCommand::Create { contact_id, body } => {
            let dto: CreateTaskParams = read_body(&body, "CreateTaskParams")?;
            to_value(client.create_task(&contact_id, &dto).await?)
        }
        TaskCommand::Update {
            contact_id,
            task_id,
            body,
        } => {
            let dto: UpdateTaskBody = read_body(&body, "UpdateTaskBody")?;
            to_value(client.update_task(&contact_id, &task_id, &dto).await?)
        }
        TaskCommand::Complete {
            contact_id,
            task_id,
            undo,
        } => to_value(
            client
                .set_task_completed(&contact_id, &task_id, !undo)
                .await?,
        ),
        TaskCommand::Delete {
            contact_id,
            task_id,
        } => to_value(client.delete_task(&contact_id, &task_id).await?),
    }
}

async fn note(client: &GhlClient, command: NoteCommand) -> Result<Value, CliError> {
    match command {
        NoteCommand::List { contact_id } => to_value(client.list_notes(&contact_id).await?),
        NoteCommand::Get {
            contact_id,
            note_id,
        } => to_value(client.get_note(&contact_id, &note_id).await?),
        NoteCommand::Create { contact_id, body } => {
            let dto: NotesDto = read_body(&body, "NotesDTO")?;
            to_value(client.create_note(&contact_id, &dto).await?)
        }
        NoteCommand::Update {
            contact_id,
            note_id,
            body,
        } => {
            let dto: UpdateNoteDto = read_body(&body, "UpdateNoteDTO")?;
            to_value(client.update_note(&contact_id, &note_id, &dto).await?)
        }
        NoteCommand::Delete {
            contact_id,
            note_id,
        } => to_value(client.delete_note(&contact_id, &note_id).await?),
    }
}

async fn appointment(client: &GhlClient, command: AppointmentCommand) -> Result<Value, CliError> {
    match command {
        AppointmentCommand::List { contact_id } => {
            to_value(client.list_contact_appointments(&contact_id).await?)
        }
        AppointmentCommand::Get { event_id } => to_value(client.get_appointment(&event_id).await?),
        AppointmentCommand::Create(body) => {
            let mut raw = read_body_text(&body)?;
            // locationId is required by the DTO but known from config: fill it in like `contact create`.
            if let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(&raw)
                && !map.contains_key("locationId")
            {
                map.insert(
                    "locationId".into(),
                    Value::String(client.location_id().into()),
                );
                raw = Value::Object(map).to_string();
            }
            let dto: AppointmentCreateDto = parse_body(&raw, "AppointmentCreateSchema")?;
            to_value(client.create_appointment(&dto).await?)
        }
        AppointmentCommand::Update { event_id, body } => {
            let dto: AppointmentEditDto = read_body(&body, "AppointmentEditSchema")?;
            to_value(client.update_appointment(&event_id, &dto).await?)
        }
    }
}

fn read_body<T: DeserializeOwned>(body: &BodyArg, dto_name: &str) -> Result<T, CliError> {
    let text = read_body_text(body)?;
    Ok(parse_body(&text, dto_name)?)
}

/// A request body larger than this is refused before it is read whole (`@/dev/zero` would
/// otherwise fill the memory): GHL's own bodies are kilobytes.
const MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;

/// `--body` is inline JSON, `@FILE`, or `-` for stdin; at most `MAX_BODY_BYTES`.
fn read_body_text(body: &BodyArg) -> Result<String, CliError> {
    let (source, reader): (String, Box<dyn Read>) = if body.body == "-" {
        ("stdin".into(), Box::new(std::io::stdin()))
    } else if let Some(file) = body.body.strip_prefix('@') {
        let opened = std::fs::File::open(file)
            .map_err(|source| CliError::io(format!("reading --body file {file}"), source))?;
        (format!("file {file}"), Box::new(opened))
    } else {
        return Ok(body.body.clone());
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| CliError::io(format!("reading --body from {source}"), err))?;
    if bytes.len() as u64 > MAX_BODY_BYTES {
        return Err(CliError::Usage(format!(
            "the --body from {source} is larger than {} MB; a GHL request body is a JSON object of a few KB — check the file",
            MAX_BODY_BYTES / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        CliError::Usage(format!(
            "the --body from {source} is not UTF-8 text; it must be a JSON object"
        ))
    })
}

fn to_value<T: Serialize>(value: T) -> Result<Value, CliError> {
    serde_json::to_value(value)
        .map_err(|err| CliError::Usage(format!("cannot render the response as JSON: {err}")))
}
