using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// Nested YAML documents (MLflow 3's trace_info.yaml and assessment files): the reader takes blocks to any depth, and
/// the writer writes floats and sequences in sequences as PyYAML's <c>safe_dump(default_flow_style=False)</c> does.
/// </summary>
internal sealed class MiniYamlDocumentTests
{
    /// <summary>What PyYAML 6 wrote for <see cref="PyYamlSample"/> (python3 -c "yaml.safe_dump(d, default_flow_style=False, allow_unicode=True)").</summary>
    private const string PyYamlText = """
        name: x
        value:
          big: 1.0e+17
          docs:
          - doc1
          - null
          - - 1.5
            - x
          - k: v
            n:
              deep:
              - true
              - false
          empty_list: []
          empty_map: {}
          hits: 2.0
          inf: .inf
          nan: .nan
          neg: -0.0
          ninf: -.inf
          num_text: '1.5'
          small: 1.0e-07
          sum: 0.30000000000000004
          text: 'yes'
          when: '2026-12-05T20:31:10.895Z'

        """;

    private static List<KeyValuePair<string, object?>> PyYamlSample() =>
    [
        new("value", new List<KeyValuePair<string, object?>>
        {
            new("docs", new List<object?>
            {
                "doc1",
                null,
                new List<object?> { 1.5, "x" },
                new List<KeyValuePair<string, object?>> { new("k", "v"), new("n", new List<KeyValuePair<string, object?>> { new("deep", new List<object?> { true, false }) }) },
            }),
            new("hits", 2.0),
            new("big", 1e17),
            new("small", 1e-07),
            new("neg", -0.0),
            new("sum", 0.1 + 0.2),
            new("nan", double.NaN),
            new("inf", double.PositiveInfinity),
            new("ninf", double.NegativeInfinity),
            new("empty_map", new List<KeyValuePair<string, object?>>()),
            new("empty_list", new List<object?>()),
            new("text", "yes"),
            new("num_text", "1.5"),
            new("when", "2026-12-05T20:31:10.895Z"),
        }),
        new("name", "x"),
    ];

    [Test]
    public void Writes_nested_floats_and_sequences_byte_for_byte_as_pyyaml()
    {
        Assert.That(MiniYaml.WriteDocument(PyYamlSample()), Is.EqualTo(PyYamlText.Replace("\r\n", "\n", StringComparison.Ordinal)));
    }

    [TestCase(1.0, "1.0")]
    [TestCase(3.0, "3.0")]
    [TestCase(0.75, "0.75")]
    [TestCase(1e17, "1.0e+17")]
    [TestCase(1e16, "1.0e+16")]
    [TestCase(1.5e300, "1.5e+300")]
    [TestCase(1e-07, "1.0e-07")]
    [TestCase(-2.5e-10, "-2.5e-10")]
    [TestCase(123456789.0, "123456789.0")]
    [TestCase(double.NaN, ".nan")]
    [TestCase(double.PositiveInfinity, ".inf")]
    [TestCase(double.NegativeInfinity, "-.inf")]
    public void Floats_are_written_as_pyyaml_represents_them(double value, string expected)
    {
        Assert.That(MiniYaml.Float(value), Is.EqualTo(expected));
        var read = MiniYaml.ReadDocument("v: " + MiniYaml.Float(value) + "\n")["v"];
        Assert.That(read, Is.TypeOf<double>(), "a float must read back as a float, not as text");
        Assert.That((double)read!, Is.EqualTo(value).Or.NaN);
    }

    [Test]
    public void Reads_pyyaml_nested_blocks_to_typed_values()
    {
        var doc = MiniYaml.ReadDocument(PyYamlText);
        Assert.That(doc["name"], Is.EqualTo("x"));
        var value = (Dictionary<string, object?>)doc["value"]!;
        var docs = (List<object?>)value["docs"]!;
        Assert.That(docs, Has.Count.EqualTo(4));
        Assert.That(docs[0], Is.EqualTo("doc1"));
        Assert.That(docs[1], Is.Null);
        Assert.That(docs[2], Is.EqualTo(new List<object?> { 1.5, "x" }));
        var item = (Dictionary<string, object?>)docs[3]!;
        Assert.That(item["k"], Is.EqualTo("v"));
        Assert.That(((Dictionary<string, object?>)item["n"]!)["deep"], Is.EqualTo(new List<object?> { true, false }));
        Assert.That(value["hits"], Is.EqualTo(2.0).And.TypeOf<double>());
        Assert.That(value["big"], Is.EqualTo(1e17));
        Assert.That(value["ninf"], Is.EqualTo(double.NegativeInfinity));
        Assert.That(double.IsNaN((double)value["nan"]!), Is.True);
        Assert.That(value["empty_list"], Is.EqualTo(new List<object?>()));
        Assert.That(value["empty_map"], Is.EqualTo(new Dictionary<string, object?>()));
        Assert.That(value["text"], Is.EqualTo("yes"), "a quoted 'yes' is text, not a boolean");
        Assert.That(value["num_text"], Is.EqualTo("1.5").And.TypeOf<string>());
        Assert.That(value["when"], Is.EqualTo("2026-12-05T20:31:10.895Z"));
    }

    [Test]
    public void Round_trips_long_multiline_and_quoted_strings_inside_nested_blocks()
    {
        var longText = string.Join(' ', Enumerable.Range(0, 40).Select(i => "word" + i));
        var entries = new List<KeyValuePair<string, object?>>
        {
            new("outer", new List<KeyValuePair<string, object?>>
            {
                new("items", new List<object?> { longText, "line one\nline two", "it's: quoted # not a comment", "", "- dash", new List<KeyValuePair<string, object?>> { new("long", longText), new("key: odd", "v") } }),
            }),
        };
        var text = MiniYaml.WriteDocument(entries);
        Assert.That(text.Split('\n').Count(l => l.Contains("word", StringComparison.Ordinal)), Is.GreaterThan(2), "long strings are folded at 80 columns as PyYAML folds them");
        var items = (List<object?>)((Dictionary<string, object?>)MiniYaml.ReadDocument(text)["outer"]!)["items"]!;
        Assert.That(items.Take(5), Is.EqualTo(new object?[] { longText, "line one\nline two", "it's: quoted # not a comment", "", "- dash" }));
        var map = (Dictionary<string, object?>)items[5]!;
        Assert.That(map["long"], Is.EqualTo(longText));
        Assert.That(map["key: odd"], Is.EqualTo("v"));
    }

    [TestCase("a: 1\n   b: 2\n", TestName = "Refuses a key indented under a scalar")]
    [TestCase("a:\n  b: 1\n c: 2\n", TestName = "Refuses a key at an indentation of no open block")]
    [TestCase("a: 1\na: 2\n", TestName = "Refuses a duplicate key")]
    [TestCase("a:\n\t b: 1\n", TestName = "Refuses tab indentation")]
    [TestCase("- a\n- b\n", TestName = "Refuses a document that is not a mapping")]
    [TestCase("a: 'open\n", TestName = "Refuses an unterminated quoted scalar")]
    public void Refuses_text_outside_the_subset(string text)
    {
        Assert.Throws<FormatException>(() => MiniYaml.ReadDocument(text));
    }

    [Test]
    public void Refuses_nesting_deeper_than_the_bound_instead_of_recursing_without_end()
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            sb.Append(new string(' ', i * 2)).Append('k').Append(i).Append(":\n");
        }

        sb.Append(new string(' ', 400)).Append("leaf: 1\n");
        Assert.Throws<FormatException>(() => MiniYaml.ReadDocument(sb.ToString()));
    }
}
