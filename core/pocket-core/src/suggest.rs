//! "Did you mean" hints.

/// The candidate closest to `wanted`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wanted, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_distant_ones_are_not() {
        assert_eq!(did_you_mean("ech", ["echo", "delay"]), Some("echo"));
        assert_eq!(did_you_mean("zzz", ["echo", "delay"]), None);
    }
}
