//! A contact's tasks (`Version: 2021-07-28`).

use reqwest::Method;

use super::scope::{CONTACTS_READ, CONTACTS_WRITE};
use super::segment;
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{
    CONTACTS_API_VERSION, CreateTaskParams, Succeded, TaskCompletedBody, TaskEnvelope, TaskList,
    UpdateTaskBody,
};
use crate::ghl::transport::Call;

fn tasks_path(contact_id: &str) -> Result<String, GhlError> {
    Ok(format!("/contacts/{}/tasks", segment(contact_id)?))
}

fn task_path(contact_id: &str, task_id: &str) -> Result<String, GhlError> {
    Ok(format!("{}/{}", tasks_path(contact_id)?, segment(task_id)?))
}

fn call(method: Method, path: String, scope: &'static str) -> Call {
    Call::new(method, path, CONTACTS_API_VERSION, scope)
}

impl GhlClient {
    /// All of a contact's tasks (GHL has no paging here).
    pub async fn list_tasks(&self, contact_id: &str) -> Result<TaskList, GhlError> {
        self.execute(call(Method::GET, tasks_path(contact_id)?, CONTACTS_READ).wrapped_in("tasks"))
            .await
    }

    pub async fn get_task(
        &self,
        contact_id: &str,
        task_id: &str,
    ) -> Result<TaskEnvelope, GhlError> {
        self.execute(
            call(Method::GET, task_path(contact_id, task_id)?, CONTACTS_READ).wrapped_in("task"),
        )
        .await
    }

    /// Not idempotent: an unknown outcome is `ErrorClass::Ambiguous`, never retried blindly.
    pub async fn create_task(
        &self,
        contact_id: &str,
        params: &CreateTaskParams,
    ) -> Result<TaskEnvelope, GhlError> {
        let request = call(Method::POST, tasks_path(contact_id)?, CONTACTS_WRITE)
            .json(params)?
            .create()
            .wrapped_in("task");
        self.execute(request).await
    }

    /// GHL is unreliable with partial bodies: send title and dueDate when you know them.
    pub async fn update_task(
        &self,
        contact_id: &str,
        task_id: &str,
        body: &UpdateTaskBody,
    ) -> Result<TaskEnvelope, GhlError> {
        self.execute(
            call(Method::PUT, task_path(contact_id, task_id)?, CONTACTS_WRITE)
                .json(body)?
                .wrapped_in("task"),
        )
        .await
    }

    pub async fn set_task_completed(
        &self,
        contact_id: &str,
        task_id: &str,
        completed: bool,
    ) -> Result<TaskEnvelope, GhlError> {
        let path = format!("{}/completed", task_path(contact_id, task_id)?);
        let body = TaskCompletedBody { completed };
        self.execute(
            call(Method::PUT, path, CONTACTS_WRITE)
                .json(&body)?
                .wrapped_in("task"),
        )
        .await
    }

    pub async fn delete_task(&self, contact_id: &str, task_id: &str) -> Result<Succeded, GhlError> {
        self.execute(
            call(
                Method::DELETE,
                task_path(contact_id, task_id)?,
                CONTACTS_WRITE,
            )
            .wrapped_in("succeded"),
        )
        .await
    }
}
