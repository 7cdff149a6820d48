//! The preview-1 `errno` values Pocket's layer answers with.

/// No error.
pub const SUCCESS: i32 = 0;
/// Bad file descriptor (no such descriptor: there are no preopens).
pub const BADF: i32 = 8;
/// Bad address (a pointer outside the guest's memory).
pub const FAULT: i32 = 21;
/// Invalid argument.
pub const INVAL: i32 = 28;
/// Function not supported.
pub const NOSYS: i32 = 52;
/// Not supported (a clock Pocket does not offer).
pub const NOTSUP: i32 = 58;
/// Invalid seek (on stdin, stdout or stderr).
pub const SPIPE: i32 = 69;
/// Capabilities insufficient (sockets).
pub const NOTCAPABLE: i32 = 75;
