//! [`Thin`]: a shared, immutable value behind a one-word pointer.
//!
//! Every event holds its host and the set of entities its line named, and
//! a log whose every line matches holds millions of events (issue 10): an
//! `Arc<str>` or `Arc<[T]>` is two words (pointer and length), this is
//! one, the length living with the value. Events that name the same host
//! or set share one `Thin`, so the extra indirection is paid per distinct
//! value, not per line.

use std::borrow::Borrow;
use std::ops::Deref;
use std::sync::Arc;

/// A shared `T` (`str`, `[Entity]`…) behind one pointer. Equality, order
/// and hash are the value's, so a `HashSet<Thin<T>>` is looked up by `&T`.
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Thin<T: ?Sized>(Arc<Box<T>>);

impl<T: ?Sized> Thin<T> {
    /// Where the shared value lives: the same for every copy of one
    /// `Thin`, so callers can key work done once per distinct value.
    pub fn address(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl<T: ?Sized> Clone for Thin<T> {
    fn clone(&self) -> Self {
        Thin(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for Thin<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> Borrow<T> for Thin<T> {
    fn borrow(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> From<Box<T>> for Thin<T> {
    fn from(value: Box<T>) -> Self {
        Thin(Arc::new(value))
    }
}

impl From<&str> for Thin<str> {
    fn from(value: &str) -> Self {
        Thin::from(Box::<str>::from(value))
    }
}

impl<T> From<Vec<T>> for Thin<[T]> {
    fn from(value: Vec<T>) -> Self {
        Thin::from(value.into_boxed_slice())
    }
}

impl<T: Clone> From<&[T]> for Thin<[T]> {
    fn from(value: &[T]) -> Self {
        Thin::from(Box::<[T]>::from(value))
    }
}

impl<T> FromIterator<T> for Thin<[T]> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Thin::from(iter.into_iter().collect::<Box<[T]>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn one_word_shared_and_looked_up_by_value() {
        assert_eq!(std::mem::size_of::<Thin<str>>(), 8);
        assert_eq!(std::mem::size_of::<Option<Thin<[u64]>>>(), 8);
        let host: Thin<str> = Thin::from("ecs-prod-003");
        let copy = host.clone();
        assert_eq!(copy.address(), host.address());
        assert_ne!(Thin::<str>::from("ecs-prod-003").address(), host.address());
        let mut hosts = HashSet::new();
        hosts.insert(host);
        assert_eq!(
            hosts.get("ecs-prod-003").map(|h| &**h),
            Some("ecs-prod-003")
        );
        let set: Thin<[u64]> = [3, 1].into_iter().collect();
        assert_eq!(&*set, &[3, 1]);
    }
}
