//! HTML reports (filled by the reports issue).
