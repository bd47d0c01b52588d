//! The shape of a request's action and resource, checked at ingest so that a malformed request never reaches
//! a decision: `" s3:GetObject"` or `"ARN:aws:s3:::b"` would slip past a `Deny` on `s3:*` or on the bucket and be
//! allowed by an `Allow` on `*`. AWS never sends such a request; an embedding that passes one on has a bug (or an
//! attacker), and iamgate refuses it: an error from the checked entry points, `ImplicitDeny` from the infallible
//! ones (README, "Untrusted input").

/// [`crate::ContextError::key`] of an error about the request's action ([`crate::ContextError::ACTION`]).
pub const ACTION: &str = "(action)";
/// [`crate::ContextError::key`] of an error about the request's resource ([`crate::ContextError::RESOURCE`]).
pub const RESOURCE: &str = "(resource)";

/// Whether `action` is `service:ActionName`: a service prefix of ASCII letters, digits and `-`, one colon, and a
/// name of ASCII letters, digits, `-` and `_` (no wildcard, no space, nothing else).
#[inline]
pub fn action_ok(action: &str) -> bool {
    // One pass over the bytes: where the first colon is, and whether every byte is allowed on its side of it.
    let b = action.as_bytes();
    let mut colon = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => {}
            b'_' if colon > 0 => {}
            b':' if colon == 0 && i > 0 => colon = i,
            _ => return false,
        }
    }
    colon > 0 && colon + 1 < b.len()
}

/// Whether `resource` is `*` or an ARN: `arn:` (lowercase, as AWS writes it) and at least five colons in all
/// (`arn:partition:service:region:account:resource`). What follows is not read: an S3 key may hold any
/// character, spaces at its end included.
#[inline]
pub fn resource_ok(resource: &str) -> bool {
    resource_ok_given(resource, false)
}

/// [`resource_ok`], told whether `resource` is known to have five colons (a decision found its account field).
#[inline(always)]
pub(crate) fn resource_ok_given(resource: &str, five_colons: bool) -> bool {
    let b = resource.as_bytes();
    match b.first_chunk::<4>() {
        Some(b"arn:") => five_colons || has_five_colons(resource),
        _ => b == b"*",
    }
}

/// Whether `arn` has five colons; out of line, since a decision usually knows.
#[cold]
#[inline(never)]
fn has_five_colons(arn: &str) -> bool {
    crate::policy::arn::account_field_at(arn).is_some()
}

#[cfg(test)]
mod tests {
    /// `action_ok` on a few telling inputs.
    #[test]
    fn action_ok_examples() {
        use super::action_ok;
        assert!(action_ok("sagemaker:CreatePresignedDomainUrl"));
        for bad in [
            "",
            " s3:GetObject",
            "s3GetObject",
            "s3\u{ff1a}GetObject",
            "s3:Get*",
            "s3:",
            ":GetObject",
        ] {
            assert!(!action_ok(bad), "{bad:?}");
        }
    }

    /// The one-pass `action_ok` says what the definition says (split at the first colon; a non-empty service of
    /// ASCII letters, digits and `-`; a non-empty name of those and `_`), on every text of up to five characters
    /// over the bytes that matter.
    #[test]
    fn json6_action_ok_is_its_definition() {
        fn definition(action: &str) -> bool {
            let Some((service, name)) = action.split_once(':') else {
                return false;
            };
            !service.is_empty()
                && !name.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        let alphabet = ["a", "Z", "0", "-", "_", ":", "*", " ", "\u{e9}", "/"];
        let mut texts = vec![String::new()];
        let mut agreed = 0;
        for _ in 0..5 {
            let mut longer = Vec::new();
            for t in &texts {
                for c in alphabet {
                    longer.push(format!("{t}{c}"));
                }
            }
            for t in &longer {
                assert_eq!(super::action_ok(t), definition(t), "{t:?}");
                agreed += usize::from(definition(t));
            }
            texts = longer;
        }
        assert!(agreed > 1000, "{agreed}");
        // Every character up to U+00FF on each side of the colon, and as either end.
        for c in (0u8..=255).map(char::from) {
            for t in [
                format!("s{c}:n"),
                format!("s:n{c}"),
                format!("{c}s:n"),
                format!("s:{c}"),
                format!("{c}:n"),
            ] {
                assert_eq!(super::action_ok(&t), definition(&t), "{t:?}");
            }
        }
        assert!(super::action_ok("sagemaker:CreatePresignedDomainUrl"));
    }

    /// `resource_ok` on a few telling inputs.
    #[test]
    fn resource_ok_examples() {
        use super::resource_ok;
        assert!(resource_ok("arn:aws:s3:::bucket/key with spaces "));
        assert!(resource_ok("*"));
        for bad in [
            "",
            " arn:aws:s3:::b",
            "ARN:aws:s3:::b",
            "arn:aws:s3",
            "*\n",
            "bucket/key",
        ] {
            assert!(!resource_ok(bad), "{bad:?}");
        }
    }
}
