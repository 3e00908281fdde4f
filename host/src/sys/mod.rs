//! Platform code, switched once here. Nothing outside `sys/` uses `cfg(unix)`/`cfg(windows)`.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::{
    host_platform, host_stderr, host_stdin, host_stdout, kernel_release, poll_many, raw_handle,
    socket_hung_up, socket_readable_bytes, socket_writable_bytes, HostFd, RawHandle,
};
