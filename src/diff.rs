//! What a commit changes: paths added, modified, deleted and renamed, and
//! lines added and deleted per file, as git's `diff-tree --numstat` counts them.
