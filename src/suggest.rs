//! "Did you mean": the nearest valid name to a misspelt one, by edit distance.

/// The optimal-string-alignment distance between `a` and `b` over characters: insertions, deletions,
/// substitutions and swaps of two neighbours each cost 1. Swaps matter: `SourceVcpe` is one swap from
/// `SourceVpce` but two edits from `SourceVpc`.
///
/// Linear memory in `b`, `|a| * |b|` time; callers compare names, never documents. The library calls
/// [`distance_within`] (every caller has a bound); this unbounded form is what the tests compare it with.
#[cfg(test)]
pub(crate) fn distance(a: &str, b: &str) -> usize {
    // INVARIANT: the distance never exceeds the longer length (substitute over the shorter, then insert or
    // delete the rest), so [`distance_within`] with that bound always answers.
    let bound = a.chars().count().max(b.chars().count());
    distance_within(a, b, bound).unwrap_or(bound)
}

/// [`distance`] when it is at most `max`, else `None`: nothing computed when the lengths alone differ by more than
/// `max` (a long unknown key costs nothing), and the rows stop once two in a row exceed `max` (a swap skips at
/// most one row, so every way to the end crosses one of them). Rows reused, so no allocation per row.
pub(crate) fn distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    let mut prev_best = 0;
    for (i, ca) in a.iter().enumerate() {
        let mut best = i + 1;
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(usize::MAX);
            let mut d = at(&prev, j)
                .saturating_add(usize::from(ca != cb))
                .min(at(&prev, j + 1).saturating_add(1))
                .min(at(&cur, j).saturating_add(1));
            let swapped =
                i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca) && ca != cb;
            if swapped {
                d = d.min(at(&before, j - 1).saturating_add(1));
            }
            if let Some(c) = cur.get_mut(j + 1) {
                *c = d;
            }
            best = best.min(d);
        }
        if best > max && prev_best > max {
            return None;
        }
        prev_best = best;
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().filter(|d| *d <= max)
}

/// The candidate nearest to `word` (compared without ASCII case), when it is close enough to be a misspelling:
/// at most a third of the candidate's length away, and at least 1 and at most 3 edits. Ties go to the earlier
/// candidate.
///
/// ```ignore
/// assert_eq!(nearest("Efect", ["Sid", "Effect", "Action"]), Some("Effect"));
/// ```
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let limit = (c.chars().count() / 3).clamp(1, 3);
        let Some(d) = distance_within(&w, &c.to_ascii_lowercase(), limit) else {
            continue;
        };
        if best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newuser_distance_counts_a_swap_once() {
        assert_eq!(distance("sourcevcpe", "sourcevpce"), 1);
        assert_eq!(distance("sourcevcpe", "sourcevpc"), 2);
        assert_eq!(distance("efect", "effect"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("ab", "ba"), 1);
    }

    #[test]
    fn newuser_nearest_picks_the_closest_and_refuses_far_ones() {
        let keys = ["aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp"];
        assert_eq!(nearest("aws:SourceVcpe", keys), Some("aws:SourceVpce"));
        assert_eq!(nearest("aws:SourceVpcx", keys), Some("aws:SourceVpc"));
        assert_eq!(
            nearest("Efect", ["Sid", "Effect", "Action"]),
            Some("Effect")
        );
        assert_eq!(nearest("Banana", ["Sid", "Effect", "Action"]), None);
    }
}
