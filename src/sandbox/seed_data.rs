//! Word lists the seed draws from. Realistic enough to read in a console, small enough to embed.

pub const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Leo",
    "Freya",
    "Priya",
    "Arjun",
    "Mei",
    "Hiroshi",
    "Sofia",
    "Mateo",
    "Fatima",
    "Omar",
    "Chloé",
    "José",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Patel",
    "Evans",
    "Hughes",
    "O'Brien",
    "Murphy",
    "Kowalski",
    "Müller",
    "Yamamoto",
    "Chen",
    "Okafor",
];

/// Names that exercise unicode handling end to end.
pub const UNICODE_NAMES: &[(&str, &str)] = &[
    ("Zoë 🌸", "Brontë"),
    ("Łukasz", "Żółć"),
    ("Siobhán", "Ó Súilleabháin"),
    ("李", "小龙"),
    ("Renée 🚀", "Dubois-Lefèvre"),
    ("Ἀλέξανδρος", "Παπαδόπουλος"),
];

pub const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "example.com",
    "acme.io",
    "proton.me",
];

pub const COMPANIES: &[&str] = &[
    "Acme Plumbing",
    "Blue Sky Dental",
    "Brightside Realty",
    "Cedar & Oak Law",
    "Delta Roofing",
    "Evergreen Landscaping",
    "Fresh Start Fitness",
    "Golden Gate Auto",
    "Harbor Insurance",
    "Ironclad HVAC",
    "Juniper Spa",
    "Keystone Movers",
    "Lakeside Vet Clinic",
    "Maple Bakery",
    "Northwind Traders",
    "Orchard Pediatrics",
    "Pinnacle Solar",
    "Quartz Interiors",
    "Riverbend Chiropractic",
    "Summit Coaching",
];

pub const TAGS: &[&str] = &[
    "lead",
    "customer",
    "vip",
    "newsletter",
    "webinar-2024",
    "referral",
    "cold",
    "hot",
    "follow-up",
    "do-not-call",
    "facebook-ad",
    "google-ad",
    "trade-show",
];

pub const TIMEZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "America/Phoenix",
];

/// (city, state, postal code, country)
pub const PLACES: &[(&str, &str, &str, &str)] = &[
    ("Austin", "TX", "78701", "US"),
    ("Denver", "CO", "80202", "US"),
    ("Miami", "FL", "33101", "US"),
    ("Seattle", "WA", "98101", "US"),
    ("Chicago", "IL", "60601", "US"),
    ("Boston", "MA", "02108", "US"),
    ("London", "England", "SW1A 1AA", "GB"),
    ("Manchester", "England", "M1 1AE", "GB"),
];

pub const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Park Rd",
    "High Street",
    "Church Lane",
];

pub const SOURCES: &[&str] = &["public api", "form", "import", "facebook", "manual"];

pub const TASK_TITLES: &[&str] = &[
    "Call back about quote",
    "Send proposal",
    "Follow up on invoice",
    "Schedule site visit",
    "Confirm appointment",
    "Collect review",
    "Renewal reminder",
    "Check in after onboarding",
];

pub const NOTE_BODIES: &[&str] = &[
    "Prefers email over phone.",
    "Asked about pricing for the premium plan.",
    "Left voicemail, will try again Thursday.",
    "Met at the trade show; interested in a demo.",
    "Complained about the last delivery being late.",
    "Referred by an existing customer.",
    "Wants a call after 5pm only.",
];

pub const APPOINTMENT_TITLES: &[&str] = &[
    "Discovery call",
    "Consultation",
    "Follow-up meeting",
    "Site visit",
    "Onboarding session",
];

/// (name, slot minutes)
pub const CALENDARS: &[(&str, i64)] =
    &[("Sales Calls", 30), ("Onboarding", 60), ("Site Visits", 90)];

/// Seeded custom fields: (key, kind of value).
pub const CUSTOM_FIELDS: &[(&str, &str)] = &[
    ("contact.favorite_color", "text"),
    ("contact.lifetime_value", "number"),
    ("contact.interests", "multi"),
];

pub const COLORS: &[&str] = &["red", "green", "blue", "teal", "purple"];
pub const INTERESTS: &[&str] = &["golf", "cooking", "travel", "tech", "music", "reading"];
