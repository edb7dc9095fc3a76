//! Integration tests: real git, real repositories, real pushes.

mod trailers;
