import Testing
@testable import EngramText

@Suite struct TokenizerTests {
    let tokenizer = TextTokenizer()

    @Test func plainWordsAreFoldedAndKeptInOrder() {
        #expect(tokenizer.terms("Hello, World! hello") == ["hello", "world", "hello"])
    }

    @Test func snakeCaseEmitsTheWholeAndItsSegments() {
        #expect(tokenizer.terms("sve_default_vector_length") == ["sve_default_vector_length", "sve", "default", "vector", "length"])
        #expect(tokenizer.terms("__init__") == ["__init__", "init"])
    }

    @Test func camelCaseAndAcronymsSplitIntoParts() {
        #expect(tokenizer.terms("XauGetBestAuthByAddr") == ["xaugetbestauthbyaddr", "xau", "get", "best", "auth", "by", "addr"])
        #expect(tokenizer.terms("HTTPServerError") == ["httpservererror", "http", "server", "error"])
        #expect(tokenizer.terms("png_set_eXIf") == ["png_set_exif", "png", "set", "exif", "e", "x", "if"])
    }

    @Test func dottedPathsFilePathsAndScopes() {
        #expect(tokenizer.terms("os.path.join") == ["os.path.join", "os", "path", "join"])
        #expect(tokenizer.terms("/usr/lib/libfoo.so.1") == ["usr/lib/libfoo.so.1", "usr", "lib", "libfoo", "so", "1"])
        #expect(tokenizer.terms("std::vector") == ["std::vector", "std", "vector"])
        #expect(tokenizer.terms("x86_64-linux-gnu") == ["x86_64-linux-gnu", "x86", "x", "86", "64", "linux", "gnu"])
        // A trailing or doubled connector does not join.
        #expect(tokenizer.terms("end. next") == ["end", "next"])
        #expect(tokenizer.terms("a..b --signed") == ["a", "b", "signed"])
    }

    @Test func numbersHexAndVersionsAreFindable() {
        #expect(tokenizer.terms("error 404") == ["error", "404"])
        #expect(tokenizer.terms("3.14") == ["3.14", "3", "14"])
        #expect(tokenizer.terms("0x1F") == ["0x1f"])
        #expect(tokenizer.terms("utf8") == ["utf8", "utf", "8"])
        #expect(tokenizer.terms("v1.2.3") == ["v1.2.3", "v1", "v", "1", "2", "3"])
    }

    @Test func unicodeLettersFoldAcrossScripts() {
        #expect(tokenizer.terms("Café RÉSUMÉ") == ["café", "résumé"])
        #expect(tokenizer.terms("ΣΟΦΙΑ σοφίας") == ["σοφια", "σοφίασ"])  // final sigma folds to σ
        #expect(tokenizer.terms("Привет МИР") == ["привет", "мир"])
        #expect(tokenizer.terms("ＡＢＣ１２３") == ["abc123", "abc", "123"])  // fullwidth forms become ASCII
    }

    @Test func cjkGivesCharactersAndBigrams() {
        #expect(tokenizer.terms("東京都") == ["東", "京", "東京", "都", "京都"])
        #expect(tokenizer.terms("東京 abc") == ["東", "京", "東京", "abc"])
        #expect(tokenizer.terms("ひらがな")[0] == "ひ")
    }

    @Test func emojiPunctuationAndEmptyGiveNothing() {
        #expect(tokenizer.terms("") == [])
        #expect(tokenizer.terms("!!! --- ... ::: ___ /// 🙂🚀") == [])
        #expect(tokenizer.terms("deploy🚀now") == ["deploy", "now"])
    }

    @Test func longTokensAreCappedButTheirPiecesKept() {
        let blob = String(repeating: "QUJD", count: 30)  // 120 bytes, base64-like
        #expect(tokenizer.terms(blob).allSatisfy { $0.utf8.count <= TextTokenizer.maxTermBytes })
        let long = String(repeating: "a", count: 70) + "_short"
        #expect(tokenizer.terms(long) == ["short"])
    }

    @Test func queryTermsFollowTheSameRules() {
        #expect(tokenizer.queryTerms("getBest") == tokenizer.terms("getBest"))
    }
}
