//! Resizing and normalisation of decoded images, in the exact arithmetic of
//! the tool each mode matches (being written: issue 3).
