//! Commit-message trailers, parsed exactly as git parses them (placeholder).
