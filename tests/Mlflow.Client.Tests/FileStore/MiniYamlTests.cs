using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>Expected texts were produced by PyYAML 6 <c>safe_dump({"k": s}, default_flow_style=False, allow_unicode=True)</c>.</summary>
internal sealed class MiniYamlTests
{
    private static readonly (string Value, string PyYaml)[] PyYamlOutputs =
    [
        ("Default", "Default"),
        ("filestore-demo", "filestore-demo"),
        ("file:///tmp/x/mlruns/0", "file:///tmp/x/mlruns/0"),
        ("", "''"),
        ("0", "'0'"),
        ("734897640822971021", "'734897640822971021'"),
        ("a: b", "'a: b'"),
        ("a #b", "'a #b'"),
        ("#a", "'#a'"),
        ("it's", "it's"),
        ("say \"hi\"", "say \"hi\""),
        (" lead", "' lead'"),
        ("trail ", "'trail '"),
        ("null", "'null'"),
        ("true", "'true'"),
        ("True", "'True'"),
        ("yes", "'yes'"),
        ("no", "'no'"),
        ("on", "'on'"),
        ("~", "'~'"),
        ("1.5", "'1.5'"),
        ("1e5", "1e5"),
        ("0x1F", "'0x1F'"),
        ("010", "'010'"),
        ("12:30", "'12:30'"),
        ("2024-01-01", "'2024-01-01'"),
        ("é unicode ü", "é unicode ü"),
        ("日本語", "日本語"),
        ("tab\there", "\"tab\\there\""),
        ("-", "'-'"),
        ("- a", "'- a'"),
        ("? x", "'? x'"),
        (":x", ":x"),
        ("a:b", "a:b"),
        ("@x", "'@x'"),
        ("`x", "'`x'"),
        ("%x", "'%x'"),
        ("!x", "'!x'"),
        ("&x", "'&x'"),
        ("*x", "'*x'"),
        ("[x]", "'[x]'"),
        ("{x}", "'{x}'"),
        ("x,y", "x,y"),
        ("...", "'...'"),
        ("---x", "'---x'"),
        ("😀 x", "😀 x"),
        (".inf", "'.inf'"),
        ("=", "'='"),
        ("<<", "'<<'"),
        ("NaN", "NaN"),
        ("nan", "nan"),
        ("1_000", "'1_000'"),
        ("+1", "'+1'"),
        ("-1", "'-1'"),
        (".5", "'.5'"),
        ("1.", "'1.'"),
        ("a'b'c", "a'b'c"),
        ("x\u00a0y", "x\u00a0y"),
        ("\u0001ctrl", "\"\\x01ctrl\""),
        ("back\\slash", "back\\slash"),
        ("a  b", "a  b"),
        ("875f951c307c482c845bc63d4af8638f", "875f951c307c482c845bc63d4af8638f"),
        ("12345678901234567890123456789012", "'12345678901234567890123456789012'"),
        ("tags with: colon", "'tags with: colon'"),
    ];

    private static IEnumerable<TestCaseData> PyYamlCases() => PyYamlOutputs.Select(c => new TestCaseData(c.Value, c.PyYaml).SetArgDisplayNames(c.PyYaml));

    [TestCaseSource(nameof(PyYamlCases))]
    public void Quotes_scalars_like_pyyaml_and_reads_them_back(string value, string expected)
    {
        var text = MiniYaml.Write([new("k", value)]);
        Assert.That(text, Is.EqualTo("k: " + expected + "\n"));
        Assert.That(MiniYaml.Read(text)["k"], Is.EqualTo(value));
    }

    [TestCase("a\nb")]
    [TestCase("line one\nline two\n")]
    [TestCase("\n")]
    [TestCase("a\u0085b")]
    [TestCase("\u2028")]
    [TestCase("x\r\ny")]
    [TestCase("quote \" and \\ back")]
    [TestCase("\0nul")]
    [TestCase("\uFEFFbom")]
    [TestCase("emoji 😀\nsecond")]
    [TestCase("  both  ")]
    [TestCase("a  \n  b")]
    public void Round_trips_multiline_and_special_strings(string value)
    {
        var text = MiniYaml.Write([new("k", value), new("z", "after")]);
        var back = MiniYaml.Read(text);
        Assert.That(back["k"], Is.EqualTo(value));
        Assert.That(back["z"], Is.EqualTo("after"));
        Assert.That(text.Split('\n'), Has.Length.EqualTo(3), "one line per key (escapes, no raw breaks)");
    }

    [Test]
    public void Writes_sorted_block_mapping_with_typed_values()
    {
        var text = MiniYaml.Write(
        [
            new("status", 1L), new("end_time", null), new("tags", MiniYaml.EmptyList.Instance), new("artifact_uri", "file:///x"),
            new("map", new MiniYaml.Mapping([new("team", "dotnet"), new("a b", "c: d")])), new("empty", new MiniYaml.Mapping([])),
        ]);
        Assert.That(text, Is.EqualTo("artifact_uri: file:///x\nempty: {}\nend_time: null\nmap:\n  a b: 'c: d'\n  team: dotnet\nstatus: 1\ntags: []\n"));
        var back = MiniYaml.Read(text);
        Assert.That(back["status"], Is.EqualTo(1L));
        Assert.That(back["end_time"], Is.Null);
        Assert.That(back["tags"], Is.InstanceOf<MiniYaml.EmptyList>());
        Assert.That(((MiniYaml.Mapping)back["map"]!).Entries, Is.EqualTo(new KeyValuePair<string, string>[] { new("a b", "c: d"), new("team", "dotnet") }));
        Assert.That(((MiniYaml.Mapping)back["empty"]!).Entries, Is.Empty);
    }

    [Test]
    public void Reads_pyyaml_folded_forms()
    {
        // PyYAML wraps long plain scalars at 80 columns and writes multi-line strings single-quoted with doubled breaks.
        var text = "z: xxxxxxxxxx\n  y y\nk: 'a\n\n  b'\nq: \"one \\\n  two\"\nn: 5\n";
        var back = MiniYaml.Read(text);
        Assert.That(back["z"], Is.EqualTo("xxxxxxxxxx y y"));
        Assert.That(back["k"], Is.EqualTo("a\nb"));
        Assert.That(back["q"], Is.EqualTo("one two"));
        Assert.That(back["n"], Is.EqualTo(5L));
    }

    [Test]
    public void Refuses_text_outside_the_subset()
    {
        Assert.Throws<FormatException>(() => MiniYaml.Read("  indented: x\n"));
        Assert.Throws<FormatException>(() => MiniYaml.Read("no colon here\n"));
        Assert.Throws<FormatException>(() => MiniYaml.Read("k: 'unterminated\n"));
    }
}
