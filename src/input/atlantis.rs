//! atlantis.yaml reader (placeholder until the reader lands).
