using Mlflow.Client.Artifacts;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary><c>log_dict</c>'s file text, compared with what Python's <c>json.dumps(d, indent=2)</c> and PyYAML's <c>yaml.dump(d, indent=2, default_flow_style=False)</c> print for the same dictionary.</summary>
internal sealed class DictSerializerTests
{
    private static Dictionary<string, object?> Sample() => new()
    {
        ["b"] = new object?[] { 1, 2.0, new Dictionary<string, object?> { ["x"] = null, ["y"] = Array.Empty<int>() } },
        ["a"] = new Dictionary<string, object?> { ["k"] = "v", ["e"] = new Dictionary<string, object?>() },
        ["s"] = "héllo \"q\"",
        ["f"] = 1e-05,
        ["g"] = 1e16,
        ["n"] = double.NaN,
        ["t"] = true,
        ["lst"] = new[] { new[] { 1, 2 }, new[] { 3 } },
    };

    [Test]
    public void Json_is_what_python_json_dump_with_indent_2_writes()
    {
        const string Python = "{\n  \"b\": [\n    1,\n    2.0,\n    {\n      \"x\": null,\n      \"y\": []\n    }\n  ],\n  \"a\": {\n    \"k\": \"v\",\n    \"e\": {}\n  },\n"
            + "  \"s\": \"h\\u00e9llo \\\"q\\\"\",\n  \"f\": 1e-05,\n  \"g\": 1e+16,\n  \"n\": NaN,\n  \"t\": true,\n  \"lst\": [\n    [\n      1,\n      2\n    ],\n    [\n      3\n    ]\n  ]\n}";
        Assert.That(DictSerializer.Serialize(Sample(), "d.json"), Is.EqualTo(Python));
    }

    [Test]
    public void Yaml_is_what_pyyaml_dump_writes_except_non_ascii_kept_as_is()
    {
        // PyYAML (allow_unicode=False) writes s as "h\xE9llo \"q\"": the same string read back.
        const string Python = "a:\n  e: {}\n  k: v\nb:\n- 1\n- 2.0\n- x: null\n  y: []\nf: 1.0e-05\ng: 1.0e+16\nlst:\n- - 1\n  - 2\n- - 3\nn: .nan\ns: h\u00e9llo \"q\"\nt: true\n";
        Assert.That(DictSerializer.Serialize(Sample(), "d.yaml"), Is.EqualTo(Python));
        Assert.That(DictSerializer.Serialize(new Dictionary<string, int>(), "d.yml"), Is.EqualTo("{}\n"));
    }

    [Test]
    public void Records_and_anonymous_objects_are_mappings_and_a_non_mapping_is_refused()
    {
        Assert.That(DictSerializer.Serialize(new { z = 1, a = new[] { "x" } }, "d.json"), Is.EqualTo("{\n  \"z\": 1,\n  \"a\": [\n    \"x\"\n  ]\n}"));
        Assert.Throws<ArgumentException>(() => DictSerializer.Serialize(new[] { 1, 2 }, "d.json"));
        Assert.Throws<ArgumentException>(() => DictSerializer.Serialize("text", "d.json"));
    }
}
