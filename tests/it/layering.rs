//! Floors (filled in below).
