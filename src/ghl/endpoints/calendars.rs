//! Calendars (`Version: 2021-04-15`), for choosing where appointments go.

use reqwest::Method;

use super::scope::CALENDARS_READ;
use crate::ghl::client::GhlClient;
use crate::ghl::error::GhlError;
use crate::ghl::models::{CALENDARS_API_VERSION, CalendarList};
use crate::ghl::transport::Call;

impl GhlClient {
    /// `GET /calendars/?locationId=`.
    pub async fn list_calendars(&self) -> Result<CalendarList, GhlError> {
        let request = Call::new(
            Method::GET,
            "/calendars/".to_string(),
            CALENDARS_API_VERSION,
            CALENDARS_READ,
        )
        .query("locationId", self.location_id())
        .wrapped_in("calendars");
        self.execute(request).await
    }
}
