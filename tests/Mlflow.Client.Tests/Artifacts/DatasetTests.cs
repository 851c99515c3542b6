using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>
/// Datasets against what MLflow records. References from MLflow 2.12.2's Python (Debian's /usr/bin/python3):
/// <c>mlflow.data.from_pandas(df, source=..., name=...)._to_mlflow_entity()</c> for source, schema and profile, and
/// <c>mlflow.data.digest_utils.get_normalized_md5_digest([open(path, "rb").read()])</c> for a file's digest.
/// </summary>
internal sealed class DatasetTests
{
    private sealed record Row(string Name, long N, int I, double X, float F, bool Ok, DateTime D, byte[] B);

    [Test]
    public void Rows_get_mlflow_schema_profile_and_source()
    {
        var d = new DateTime(2024, 1, 1);
        var ds = MlflowDataset.FromRows(new[] { new Row("a", 1, 1, 0.5, 0.5f, true, d, [1]), new Row("b", 2, 2, 1.5, 1.5f, false, d, [2]) }, "train", "/data/train.csv");

        // df = pd.DataFrame({"name": ["a", "b"], "n": np.array([1, 2], dtype="int64"), "i": np.array([1, 2], dtype="int32"), "x": [0.5, 1.5],
        //   "f": np.array([0.5, 1.5], dtype="float32"), "ok": [True, False], "d": [datetime(2024, 1, 1)] * 2, "b": [b"x", b"y"]})
        // (column names lower-case in Python; ours are the property names)
        Assert.That(ds.Name, Is.EqualTo("train"));
        Assert.That(ds.SourceType, Is.EqualTo("local"));
        Assert.That(ds.Source, Is.EqualTo("""{"uri": "/data/train.csv"}"""));
        Assert.That(ds.Schema, Is.EqualTo("""{"mlflow_colspec": [{"type": "string", "name": "Name", "required": true}, {"type": "long", "name": "N", "required": true}, {"type": "integer", "name": "I", "required": true}, {"type": "double", "name": "X", "required": true}, {"type": "float", "name": "F", "required": true}, {"type": "boolean", "name": "Ok", "required": true}, {"type": "datetime", "name": "D", "required": true}, {"type": "binary", "name": "B", "required": true}]}"""));
        Assert.That(ds.Profile, Is.EqualTo("""{"num_rows": 2, "num_elements": 16}"""));
        Assert.That(ds.Digest, Has.Length.EqualTo(8).And.Match("^[0-9a-f]{8}$"));
    }

    [Test]
    public void A_missing_value_makes_a_column_not_required()
    {
        // mlflow.data.from_pandas(pd.DataFrame({"a": [1, None]})) -> {"type": "double", "name": "a", "required": false} (pandas makes the column float)
        var ds = MlflowDataset.FromTable(MlflowTable.FromColumns([new("a", new object?[] { 1.0, null })]), "x", "https://example.com/x.csv");
        Assert.That(ds.Schema, Is.EqualTo("""{"mlflow_colspec": [{"type": "double", "name": "a", "required": false}]}"""));
        Assert.That(ds.SourceType, Is.EqualTo("http"));
        Assert.That(ds.Source, Is.EqualTo("""{"url": "https://example.com/x.csv"}"""));
    }

    [Test]
    public void Other_uris_keep_their_scheme_as_source_type()
    {
        var ds = MlflowDataset.Create("x", "abcd1234", "s3://bucket/x.parquet");
        Assert.That((ds.SourceType, ds.Source), Is.EqualTo(("s3", """{"uri": "s3://bucket/x.parquet"}""")));
    }

    [Test]
    public void A_file_digest_is_mlflows_md5_of_its_bytes()
    {
        var path = Path.Combine(RepoPaths.RepoRoot, "tests", "Fixtures", "onnx", "tiny.onnx");
        var ds = MlflowDataset.FromFile(path);

        // get_normalized_md5_digest([open("tiny.onnx", "rb").read()]) == "22f3cd0b"
        Assert.That(ds.Digest, Is.EqualTo("22f3cd0b"));
        Assert.That(ds.Name, Is.EqualTo("tiny.onnx"));
        Assert.That(ds.SourceType, Is.EqualTo("local"));
        Assert.That(ds.Schema, Is.Null);
    }

    [TestCase("mixed", "30cc9379")]
    [TestCase("ints_only", "3dd8b374")]
    [TestCase("strings_only", "d2a16267")]
    [TestCase("with_null", "86eeb143")]
    [TestCase("bools", "d46c936e")]
    public void Row_digests_are_mlflows_pandas_digests(string name, string expected)
    {
        // mlflow.data.digest_utils.compute_pandas_digest(pd.DataFrame(columns)) for the same columns as Python lists:
        // mixed: {"Input": ["What is MLflow?", "é?", "What is MLflow?"], "Score": [0.5, 1/3, -0.0], "N": [1, 2, -3], "Ok": [True, False, True]}
        // ints_only: {"b": [1, 2, 3], "a": [10, 20, 30]}; strings_only: {"z": ["x", "y"], "a": ["😀", ""]}
        // with_null: {"a": [1, None], "s": ["x", None]}; bools: {"ok": [True, False]}
        var columns = new Dictionary<string, KeyValuePair<string, IEnumerable<object?>>[]>
        {
            ["mixed"] = [new("Input", ["What is MLflow?", "é?", "What is MLflow?"]), new("Score", [0.5, 1.0 / 3, -0.0]), new("N", [1, 2L, -3]), new("Ok", [true, false, true])],
            ["ints_only"] = [new("b", [1, 2, 3]), new("a", [10, 20, 30])],
            ["strings_only"] = [new("z", ["x", "y"]), new("a", ["😀", ""])],
            ["with_null"] = [new("a", [1, null]), new("s", ["x", null])],
            ["bools"] = [new("ok", [true, false])],
        };
        Assert.That(MlflowDataset.ComputeDigest(MlflowTable.FromColumns(columns[name])), Is.EqualTo(expected));
    }

    [Test]
    public void Bad_input_is_refused()
    {
        Assert.Throws<FileNotFoundException>(() => MlflowDataset.FromFile("/nonexistent/data.csv"));
        Assert.Throws<ArgumentException>(() => MlflowDataset.Create(new string('n', 501), "d", "/x"));
        Assert.Throws<ArgumentException>(() => MlflowDataset.Create("n", new string('d', 37), "/x"));
    }

    [Test]
    public void The_input_carries_the_context_tag()
    {
        var input = MlflowDataset.Create("n", "d", "/x").ToInput("training");
        Assert.That(input.Tags.Select(t => (t.Key, t.Value)), Is.EqualTo(new[] { ("mlflow.data.context", "training") }));
        Assert.That(MlflowDataset.Create("n", "d", "/x").ToInput(null).Tags, Is.Empty);
    }

    [Test]
    public void A_whole_number_column_with_a_missing_value_is_double_and_a_NaN_makes_a_column_not_required()
    {
        // pandas makes [1, None] a float64 column and [0.5, NaN] has a missing value: MLflow writes double, not required (issue 21 item 15)
        var table = MlflowTable.FromColumns([new("n", new object?[] { 1, null }), new("x", new object?[] { 0.5, double.NaN }), new("k", new object?[] { 2L, 3L })]);
        var ds = MlflowDataset.FromTable(table, "x", "https://example.com/x.csv");
        Assert.That(ds.Schema, Is.EqualTo("""{"mlflow_colspec": [{"type": "double", "name": "n", "required": false}, {"type": "double", "name": "x", "required": false}, {"type": "long", "name": "k", "required": true}]}"""));
    }

    [Test]
    public void Unsigned_longs_are_whole_numbers_for_the_schema_the_table_writer_and_the_digest_alike()
    {
        // one rule (PandasColumnTypes): a ulong column is an int64 column of the same values, wherever it is looked at
        var asUlong = MlflowTable.FromColumns([new("u", new object?[] { 1UL, 2UL, 3UL })]);
        var asLong = MlflowTable.FromColumns([new("u", new object?[] { 1L, 2L, 3L })]);
        Assert.That(MlflowDataset.ComputeDigest(asUlong), Is.EqualTo(MlflowDataset.ComputeDigest(asLong)), "the digest hashes it as int64, not as an excluded column");
        Assert.That(Mlflow.Client.Artifacts.TableJson.Write(asUlong), Is.EqualTo(Mlflow.Client.Artifacts.TableJson.Write(asLong)));
        Assert.That(MlflowDataset.FromTable(asUlong, "u", "https://example.com/u").Schema, Is.EqualTo(MlflowDataset.FromTable(asLong, "u", "https://example.com/u").Schema));
    }

    [Test]
    public void A_csv_file_gets_the_schema_and_profile_pandas_read_csv_gives_it()
    {
        // issue 21 item 12: pd.read_csv -> name object, age float64 (a missing cell), score float64 (NaN), ok bool, note object with a missing cell
        var dir = Directory.CreateTempSubdirectory("mlflow-csv-");
        try
        {
            var path = Path.Combine(dir.FullName, "people.csv");
            File.WriteAllText(path, "name,age,score,ok,note,n\nann,31,0.5,True,x,1\nbob,,1.25,False,,2\n\"c, d\",40,NaN,True,\"say \"\"hi\"\"\nthere\",3\n");
            var ds = MlflowDataset.FromFile(path);
            Assert.That(ds.Schema, Is.EqualTo("""{"mlflow_colspec": [{"type": "string", "name": "name", "required": true}, {"type": "double", "name": "age", "required": false}, {"type": "double", "name": "score", "required": false}, {"type": "boolean", "name": "ok", "required": true}, {"type": "string", "name": "note", "required": false}, {"type": "long", "name": "n", "required": true}]}"""));
            Assert.That(ds.Profile, Is.EqualTo("""{"num_rows": 3, "num_elements": 18}"""));
            Assert.That(ds.Digest, Is.EqualTo(MlflowDataset.ComputeDigest(path)), "the digest stays the file's bytes");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
