//! Frames on the pipe between the host and a plugin's process (an isolated
//! native plugin's, a process plugin's): a `u32` little-endian length, then
//! that many bytes of JSON (serde_json). A frame longer than [`MAX_FRAME`]
//! is refused before anything is allocated for it.

use std::io::{self, Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest frame body either side sends or accepts: 64 MiB.
pub const MAX_FRAME: u32 = 64 << 20;

/// A frame could not be sent or received.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The other side closed the pipe between frames.
    #[error("the pipe was closed")]
    Closed,
    /// Reading or writing failed (including a pipe closed mid-frame).
    #[error("pipe i/o failed: {0}")]
    Io(#[from] io::Error),
    /// The frame's length is over [`MAX_FRAME`].
    #[error("a frame of {len} bytes is over the limit of {MAX_FRAME} bytes")]
    TooLarge {
        /// The length the frame announced (or would have had).
        len: u64,
    },
    /// The body is not the JSON of a message this side knows.
    #[error("malformed frame: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Writes `message` as one frame and flushes.
pub fn write_frame<W: Write, T: Serialize>(out: &mut W, message: &T) -> Result<(), FrameError> {
    let body = serde_json::to_vec(message)?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|len| *len <= MAX_FRAME)
        .ok_or(FrameError::TooLarge { len: body.len() as u64 })?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(())
}

/// Reads one frame; [`FrameError::Closed`] when the pipe ends before it.
pub fn read_frame<R: Read, T: DeserializeOwned>(input: &mut R) -> Result<T, FrameError> {
    let mut header = [0u8; 4];
    let mut filled = 0;
    while filled < header.len() {
        match input.read(&mut header[filled..]) {
            Ok(0) if filled == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u32::from_le_bytes(header);
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge { len: u64::from(len) });
    }
    let mut body = vec![0u8; len as usize];
    input.read_exact(&mut body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(&body);
    // Values nest as deep as they like; pocket-value deserializes them on a
    // growing stack.
    deserializer.disable_recursion_limit();
    let message = T::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use pocket_core::Value;

    use super::*;

    #[test]
    fn a_frame_round_trips() {
        let value = Value::from_json(r#"{"a":[1,2.5,"x",null],"b":{"c":true}}"#).unwrap();
        let mut pipe = Vec::new();
        write_frame(&mut pipe, &value).unwrap();
        assert_eq!(&pipe[..4], &(u32::try_from(pipe.len()).unwrap() - 4).to_le_bytes());
        let back: Value = read_frame(&mut pipe.as_slice()).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn an_empty_pipe_is_closed_and_a_cut_frame_is_an_error() {
        let empty: &[u8] = &[];
        assert!(matches!(read_frame::<_, Value>(&mut &*empty), Err(FrameError::Closed)));
        let mut pipe = Vec::new();
        write_frame(&mut pipe, &Value::from("hello")).unwrap();
        for cut in [2, 6] {
            let err = read_frame::<_, Value>(&mut &pipe[..cut]).unwrap_err();
            assert!(
                matches!(&err, FrameError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
                "{err}"
            );
        }
    }

    #[test]
    fn an_oversized_length_is_refused_before_reading_the_body() {
        // Announces 4 GiB - 1 and has no body: refused from the header alone.
        let pipe = u32::MAX.to_le_bytes();
        let err = read_frame::<_, Value>(&mut &pipe[..]).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { len } if len == u64::from(u32::MAX)));
    }

    #[test]
    fn garbage_is_malformed() {
        let mut pipe = 5u32.to_le_bytes().to_vec();
        pipe.extend_from_slice(b"{nope");
        assert!(matches!(
            read_frame::<_, Value>(&mut pipe.as_slice()),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn deep_values_cross_in_a_frame() {
        let mut value = Value::from(1);
        for _ in 0..10_000 {
            value = Value::array([value]);
        }
        let mut pipe = Vec::new();
        write_frame(&mut pipe, &value).unwrap();
        let back: Value = read_frame(&mut pipe.as_slice()).unwrap();
        assert_eq!(back, value);
    }
}
