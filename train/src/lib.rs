//! Detectors (filled by the detector issues).
