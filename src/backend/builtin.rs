//! The built-in feature network (being written: issue 3).
