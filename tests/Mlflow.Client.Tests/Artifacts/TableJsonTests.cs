using System.Text;
using Mlflow.Client.Artifacts;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>
/// The table JSON against what MLflow writes. Expected texts were produced by MLflow 2.12.2's Python (pandas 1.5.3,
/// Debian's /usr/bin/python3) with <c>DataFrame.to_json(orient="split", index=False, date_format="iso")</c>, the call
/// <c>MlflowClient.log_table</c> makes, on the same data built as a pandas DataFrame.
/// </summary>
internal sealed class TableJsonTests
{
    private sealed record Row(long Id, string Text, double Score, bool Ok, int? N, DateTime When);

    [Test]
    public void Rows_of_a_record_are_written_as_pandas_writes_them()
    {
        var when = new DateTime(2024, 1, 2, 3, 4, 5, 678, DateTimeKind.Unspecified);
        var table = MlflowTable.FromRows(new[]
        {
            new Row(1, "What is ML/flow?", 0.1, true, 1, when),
            new Row(2, "é \"quoted\"\n", 1.0 / 3, false, null, when),
            new Row(3, "😀", 123456789.123456789, true, 3, when),
        });

        // pd.DataFrame({"id": np.array([1,2,3], dtype="int64"), "text": [...], "score": [0.1, 1/3, 123456789.123456789],
        //   "ok": [True, False, True], "n": [1, None, 3], "when": [datetime(2024,1,2,3,4,5,678000)]*3}).to_json(...)
        const string Expected = """{"columns":["Id","Text","Score","Ok","N","When"],"data":[[1,"What is ML\/flow?",0.1,true,1.0,"2024-01-02T03:04:05.678"],[2,"\u00e9 \"quoted\"\n",0.3333333333,false,null,"2024-01-02T03:04:05.678"],[3,"\ud83d\ude00",123456789.123456791,true,3.0,"2024-01-02T03:04:05.678"]]}""";
        Assert.That(TableJson.Write(table), Is.EqualTo(Expected));
    }

    [Test]
    public void Doubles_follow_pandas_ten_decimal_format()
    {
        double[] values = [0.0, -0.0, 1.0, -1.5, 0.1, 1.0 / 3, 2.0 / 3, 1e-7, 5e-11, 1e-15, 1e-16, 1.2345678901234e-20, 1e16, 1.5e16, 1e20, 12345678901234567890.0, -2.5e300, 1000000000000000.25, 0.99999999999, 0.95, 2.5, 1.00000000015, double.NaN, double.PositiveInfinity];
        var table = MlflowTable.FromColumns([new("a", values.Cast<object?>())]);

        // pd.DataFrame({"a": [the same values]}).to_json(orient="split", index=False)
        const string Expected = """{"columns":["a"],"data":[[0.0],[0.0],[1.0],[-1.5],[0.1],[0.3333333333],[0.6666666667],[0.0000001],[0.0000000001],[0.0],[1e-16],[1.23456789e-20],[10000000000000000.0],[1.5e+16],[1e+20],[1.23456789e+19],[-2.5e+300],[1000000000000000.25],[1.0],[0.95],[2.5],[1.0000000002],[null],[null]]}""";
        Assert.That(TableJson.Write(table), Is.EqualTo(Expected));
    }

    [Test]
    public void Strings_are_escaped_as_pandas_ujson_does()
    {
        var table = MlflowTable.FromColumns([new("s", new object?[] { "a/b\\c\t\r\b\f\u0001\u007f<>&\u2028😀" })]);

        // pd.DataFrame({"s": ["a/b\\c\t\r\b\f\x01\x7f<>&\u2028😀"]}).to_json(orient="split", index=False)
        Assert.That(TableJson.Write(table), Is.EqualTo("{\"columns\":[\"s\"],\"data\":[[\"a\\/b\\\\c\\t\\r\\b\\f\\u0001\u007f<>&\\u2028\\ud83d\\ude00\"]]}"));
    }

    [Test]
    public void Columns_are_typed_as_pandas_types_them()
    {
        var table = MlflowTable.FromColumns(
        [
            new("ints_and_floats", new object?[] { 1, 2.5 }),
            new("mixed", new object?[] { 1, "x" }),
            new("bool_or_null", new object?[] { true, null }),
            new("nulls", new object?[] { null, null }),
        ]);

        // pandas: [1, 2.5] is float64, [1, "x"] object, [True, None] object, [None, None] object
        Assert.That(TableJson.Write(table), Is.EqualTo("""{"columns":["ints_and_floats","mixed","bool_or_null","nulls"],"data":[[1.0,1,true,null],[2.5,"x",null,null]]}"""));
    }

    [Test]
    public void An_empty_table_keeps_its_columns()
        => Assert.That(TableJson.Write(MlflowTable.FromColumns([new("a", Array.Empty<object?>())])), Is.EqualTo("""{"columns":["a"],"data":[]}"""));

    [Test]
    public void Appending_reads_the_stored_table_and_concatenates_as_pandas_concat()
    {
        var stored = TableJson.Write(MlflowTable.FromColumns([new("a", new object?[] { 1, 2 }), new("b", new object?[] { "x", "y" })]));
        var more = MlflowTable.FromColumns([new("a", new object?[] { 3.5 }), new("c", new object?[] { true })]);

        // pd.concat([pd.read_json(stored, orient="split"), pd.DataFrame({"a": [3.5], "c": [True]})], ignore_index=True).to_json(...)
        Assert.That(TableJson.Write(TableJson.Read(stored).Append(more)), Is.EqualTo("""{"columns":["a","b","c"],"data":[[1.0,"x",null],[2.0,"y",null],[3.5,null,true]]}"""));
    }

    [Test]
    public void Ragged_rows_are_refused_and_nothing_is_built()
    {
        var ex = Assert.Throws<ArgumentException>(() => MlflowTable.FromRows(["a", "b"], [new object?[] { 1, 2 }, new object?[] { 3 }]));
        Assert.That(ex!.Message, Does.Contain("Row 1 has 1 values but the table has 2 columns"));
        var cols = Assert.Throws<ArgumentException>(() => MlflowTable.FromColumns([new("a", new object?[] { 1, 2 }), new("b", new object?[] { 1 })]));
        Assert.That(cols!.Message, Does.Contain("Column 'b' has 1 values but column 'a' has 2"));
        Assert.Throws<ArgumentException>(() => MlflowTable.FromRows(["a", "a"], [new object?[] { 1, 2 }]));
    }

    [Test]
    public void A_stored_file_that_is_not_a_table_is_a_format_error()
    {
        Assert.Throws<FormatException>(() => TableJson.Read("{\"columns\":[\"a\"]}"));
        Assert.Throws<FormatException>(() => TableJson.Read("{\"columns\":[\"a\"],\"data\":[[1,2]]}"));
        Assert.Throws<FormatException>(() => TableJson.Read("not json"));
    }

    [Test]
    public void Logged_artifacts_tag_is_json_dumps_without_duplicates()
    {
        // t = []; for p in ["t/tab.json", "other é.json", "t/tab.json"]: v = {"path": p, "type": "table"}; if v not in t: t.append(v); json.dumps(t)
        var first = RunTagLists.AppendArtifact(null, "t/tab.json", "table");
        Assert.That(first, Is.EqualTo("""[{"path": "t/tab.json", "type": "table"}]"""));
        var second = RunTagLists.AppendArtifact(first, "other é.json", "table");
        Assert.That(second, Is.EqualTo("""[{"path": "t/tab.json", "type": "table"}, {"path": "other \u00e9.json", "type": "table"}]"""));
        Assert.That(RunTagLists.AppendArtifact(second, "t/tab.json", "table"), Is.Null, "already listed: the tag stays");
        Assert.Throws<FormatException>(() => RunTagLists.AppendArtifact("{\"not\": \"a list\"}", "x.json", "table"));
    }

    [Test]
    public void Python_json_escapes_non_ascii_and_controls()
    {
        var sb = new StringBuilder();
        PythonJson.WriteString(sb, "a/\"\\\u007fé😀\u0001");

        // json.dumps("a/\"\\\x7fé😀\x01")
        Assert.That(sb.ToString(), Is.EqualTo("\"a/\\\"\\\\\\u007f\\u00e9\\ud83d\\ude00\\u0001\""));
    }
}
