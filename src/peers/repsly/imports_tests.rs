use super::*;
use crate::net::ErrorClass;
use serde_json::json;

#[test]
fn job_id_from_several_phrasings() {
    let cases = [
        (
            "Client import job started asynchronously under ID: 12345",
            "12345",
        ),
        ("Import job started asynchronously under ID:987.", "987"),
        (
            "Schedule import job started asynchronously under ID 42",
            "42",
        ),
        (
            "import job started asynchronously under id: 5f0c2a9e-1b2c-4d3e-8f90-aa11bb22cc33",
            "5f0c2a9e-1b2c-4d3e-8f90-aa11bb22cc33",
        ),
        ("ImportJobID=77 (valid for 30 days)", "77"),
        (
            "Job 3 rows; import job started asynchronously under ID: \"9001\"",
            "9001",
        ),
        ("Import started asynchronously: 31337", "31337"),
    ];
    for (message, expected) in cases {
        assert_eq!(
            extract_job_id(message).as_deref(),
            Some(expected),
            "{message}"
        );
    }
    for message in [
        "Import job started asynchronously",
        "",
        "valid ID: none",
        "Invalid data",
    ] {
        assert_eq!(extract_job_id(message), None, "{message}");
    }
}

#[test]
fn start_answers() {
    let op = "POST import/client";
    let ok = json!({"Code": 0, "Message": "Client import job started asynchronously under ID: 12"});
    assert_eq!(job_id_from_start(&ok, op).unwrap(), "12");
    assert_eq!(
        job_id_from_start(&json!({"Code": 0, "ImportJobID": 55, "Message": ""}), op).unwrap(),
        "55"
    );
    let refused = json!({"Code": 4, "Message": "Code is required"});
    let err = job_id_from_start(&refused, op).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Validation);
    assert!(
        err.to_string().contains("Code 4: Code is required"),
        "{err}"
    );
    let missing = json!({"Code": 0, "Message": "Import accepted"});
    let err = job_id_from_start(&missing, op).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Decode);
    assert!(err.to_string().contains("POST import/client"), "{err}");
}

#[test]
fn status_answers() {
    let done = json!({"ImportStatus": "Completed", "RowsInserted": 1, "RowsUpdated": 0, "RowsInvalid": 0,
                      "RowsTotal": 1, "Warnings": [], "Errors": []});
    let status = parse_import_status(&done).unwrap();
    assert_eq!(status.state, JobState::Completed);
    assert_eq!((status.rows_inserted, status.rows_total), (1, 1));
    assert!(judge(&status, "12", "op").is_ok());

    let pending = json!({"ImportStatus": "Pending"});
    assert_eq!(
        parse_import_status(&pending).unwrap().state,
        JobState::Pending("Pending".into())
    );
    let wrapped = json!({"Result": {"ImportStatus": "completed"}});
    assert_eq!(
        parse_import_status(&wrapped).unwrap().state,
        JobState::Completed
    );
    assert!(parse_import_status(&json!({"Code": 0})).is_none());

    let invalid = json!({"ImportStatus": "Completed", "RowsInvalid": 1, "RowsTotal": 2,
                         "Warnings": [{"ItemID": "C-9", "ItemName": "Acme", "ItemStatus": "Invalid"}],
                         "Errors": ["Row 2: Name is required"]});
    let err = judge(
        &parse_import_status(&invalid).unwrap(),
        "12",
        "POST import/clientList",
    )
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Validation);
    assert!(
        err.to_string().contains("Row 2: Name is required") && err.to_string().contains("job 12"),
        "{err}"
    );

    let failed =
        json!({"ImportStatus": "Failed", "Warnings": [{"ItemID": "C-9", "ItemStatus": "Invalid"}]});
    let err = judge(&parse_import_status(&failed).unwrap(), "12", "op").unwrap_err();
    assert!(
        err.to_string().contains("failed") && err.to_string().contains("ItemID=C-9"),
        "{err}"
    );
}
