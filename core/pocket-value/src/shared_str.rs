//! [`Str`]: the shared, immutable string inside string values and object keys.
//!
//! One allocation holds a reference count, the length, the function that
//! frees the allocation, and the bytes. Cloning increments the count. The
//! layout is stable (`#[repr(C)]`, checked by abi_stable), and the freeing
//! function is the allocating library's own: a string built by a native
//! plugin and dropped by the host is freed by the plugin's allocator.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::borrow::{Borrow, Cow};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

use abi_stable::StableAbi;

/// What precedes a string's bytes in its allocation.
#[repr(C)]
#[derive(StableAbi)]
pub struct Header {
    /// How many [`Str`]s point here.
    count: AtomicUsize,
    /// The length of the text, in bytes.
    len: usize,
    /// Frees the allocation: code of the library that made it.
    release: unsafe extern "C" fn(*mut Header),
}

/// A shared, immutable UTF-8 string: [`Value::String`](crate::Value::String)'s
/// contents and [`Map`](crate::Map)'s keys. Clones share the text; it
/// dereferences to `str`.
#[repr(transparent)]
#[derive(StableAbi)]
pub struct Str {
    header: NonNull<Header>,
}

// SAFETY: the text is immutable and the count is atomic, as in `Arc<str>`.
unsafe impl Send for Str {}
// SAFETY: as above: shared access only reads the text or changes the count atomically.
unsafe impl Sync for Str {}

/// More clones than this of one string means a leak loop; abort as `Arc` does.
const MAX_COUNT: usize = isize::MAX as usize;

impl Str {
    /// A string holding a copy of `text`.
    pub fn new(text: &str) -> Str {
        let layout = layout_for(text.len());
        // SAFETY: the layout is never zero-sized (it holds the header).
        let raw = unsafe { alloc(layout) }.cast::<Header>();
        let Some(header) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        // SAFETY: `raw` is a fresh allocation sized and aligned for the
        // header followed by `text.len()` bytes.
        unsafe {
            raw.write(Header {
                count: AtomicUsize::new(1),
                len: text.len(),
                release: release_allocation,
            });
            std::ptr::copy_nonoverlapping(text.as_ptr(), raw.add(1).cast::<u8>(), text.len());
        }
        Str { header }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        let header = self.header();
        // SAFETY: the allocation holds `len` bytes of valid UTF-8 right after
        // the header (written once by `Str::new`, never changed), and lives
        // while `self` does.
        unsafe {
            let bytes = self.header.as_ptr().add(1).cast::<u8>();
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(bytes, header.len))
        }
    }

    /// Whether two strings share one allocation (cheap identity test).
    pub fn ptr_eq(&self, other: &Str) -> bool {
        self.header == other.header
    }

    fn header(&self) -> &Header {
        // SAFETY: the header is valid while any `Str` points to it.
        unsafe { self.header.as_ref() }
    }
}

/// The allocation for a header and `len` bytes of text.
fn layout_for(len: usize) -> Layout {
    Layout::new::<Header>()
        .extend(Layout::array::<u8>(len).expect("a string's length fits in a layout"))
        .expect("a string's length fits in a layout")
        .0
        .pad_to_align()
}

/// Frees an allocation made by [`Str::new`] in this library.
///
/// # Safety
/// `header` must come from [`Str::new`] and no [`Str`] may point to it any more.
unsafe extern "C" fn release_allocation(header: *mut Header) {
    // SAFETY: per the contract, the header is valid and unshared; the layout
    // is the one it was allocated with.
    unsafe {
        let layout = layout_for((*header).len);
        dealloc(header.cast::<u8>(), layout);
    }
}

impl Clone for Str {
    fn clone(&self) -> Str {
        if self.header().count.fetch_add(1, Ordering::Relaxed) > MAX_COUNT {
            std::process::abort();
        }
        Str { header: self.header }
    }
}

impl Drop for Str {
    fn drop(&mut self) {
        if self.header().count.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Every other owner's use happens before the release (as in `Arc`).
        fence(Ordering::Acquire);
        let release = self.header().release;
        // SAFETY: this was the last `Str` pointing here; `release` is the
        // function of the library that made the allocation.
        unsafe { release(self.header.as_ptr()) }
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Default for Str {
    fn default() -> Str {
        Str::new("")
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.ptr_eq(other) || self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Str {
    fn from(text: &str) -> Str {
        Str::new(text)
    }
}

impl From<&String> for Str {
    fn from(text: &String) -> Str {
        Str::new(text)
    }
}

impl From<String> for Str {
    fn from(text: String) -> Str {
        Str::new(&text)
    }
}

impl From<Box<str>> for Str {
    fn from(text: Box<str>) -> Str {
        Str::new(&text)
    }
}

impl From<Arc<str>> for Str {
    fn from(text: Arc<str>) -> Str {
        Str::new(&text)
    }
}

impl From<&Arc<str>> for Str {
    fn from(text: &Arc<str>) -> Str {
        Str::new(text)
    }
}

impl From<Cow<'_, str>> for Str {
    fn from(text: Cow<'_, str>) -> Str {
        Str::new(&text)
    }
}

impl From<&Str> for Str {
    fn from(text: &Str) -> Str {
        text.clone()
    }
}

impl From<Str> for String {
    fn from(text: Str) -> String {
        text.as_str().to_owned()
    }
}

impl From<&Str> for String {
    fn from(text: &Str) -> String {
        text.as_str().to_owned()
    }
}

impl From<Str> for Arc<str> {
    fn from(text: Str) -> Arc<str> {
        Arc::from(text.as_str())
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Str {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Str, D::Error> {
        struct StrVisitor;
        impl serde::de::Visitor<'_> for StrVisitor {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Str, E> {
                Ok(Str::new(text))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_text_and_the_last_drop_frees_it() {
        let a = Str::from("Pocket");
        let b = a.clone();
        assert!(a.ptr_eq(&b));
        assert_eq!(a.header().count.load(Ordering::Relaxed), 2);
        drop(a);
        assert_eq!(b.header().count.load(Ordering::Relaxed), 1);
        assert_eq!(&*b, "Pocket");
    }

    #[test]
    fn empty_and_multibyte_texts_keep_their_bytes() {
        assert_eq!(Str::new("").as_str(), "");
        assert_eq!(Str::new("straße ✓").as_str(), "straße ✓");
        assert_eq!(Str::new("straße ✓").len(), "straße ✓".len());
    }

    #[test]
    fn strings_compare_and_order_by_text() {
        let (a, b) = (Str::from("a"), Str::from(String::from("b")));
        assert!(a < b);
        assert_eq!(a, Str::from("a"));
        assert_eq!(a, "a");
        assert_eq!(format!("{a} {b:?}"), "a \"b\"");
    }
}
