//! Reading an answer's body up to a limit. An API page is a few hundred KB; a body past the
//! limit (a broken proxy streaming without end, a dump served by mistake) is cut off as soon
//! as it passes it, instead of being held in memory whole.

/// Far above any page GHL or a peer sends (GHL's largest, 100 contacts, is well under 1 MB).
pub const ANSWER_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug)]
pub enum BodyError {
    /// The connection failed while the body was read.
    Network(reqwest::Error),
    /// The body passed `limit` bytes (by its `Content-Length`, or as it arrived).
    TooLarge { limit: usize },
}

impl BodyError {
    /// What to say when the body was too large: the limit, and that it is the server's doing.
    pub fn too_large_detail(limit: usize) -> String {
        format!(
            "the answer is larger than {} MB, far more than a page of records; ghlsync stopped reading it (a proxy or the server sends something else than the API's answer)",
            limit / (1024 * 1024)
        )
    }
}

/// The whole body, if it is at most `limit` bytes.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Network)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
