//! Masking of personal data for viewers not entitled to see it.

/// 138****5678
pub fn phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// 张** : the family name stays, the rest is hidden.
pub fn name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_only_what_identifies_nobody() {
        assert_eq!(super::phone("13812345678"), "138****5678");
        assert_eq!(super::phone("12345"), "*****");
        assert_eq!(super::name("张三丰"), "张**");
        assert_eq!(super::name("李"), "李*");
        assert_eq!(super::name(""), "");
    }
}
