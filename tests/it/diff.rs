//! Diff facts against `git diff-tree --numstat`.
