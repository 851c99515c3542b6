using System.Text;
using System.Text.RegularExpressions;
using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

internal sealed class LocalFileStoreTests : FileStoreTestBase
{
    [Test]
    public void New_root_has_default_experiment_and_trash()
    {
        Assert.That(Directory.Exists(Path.Combine(Root, ".trash")), Is.True);
        var meta = Text(Path.Combine(Root, "0", "meta.yaml"));
        var uri = FileStorePaths.ToFileUri(Root);
        Assert.That(meta, Does.Match(
            "^artifact_location: " + Regex.Escape(uri) + "/0\ncreation_time: \\d{13}\nexperiment_id: '0'\nlast_update_time: \\d{13}\nlifecycle_stage: active\nname: Default\n$"));
        Assert.That(Directory.Exists(Path.Combine(Root, "0", "tags")), Is.False, "MLflow creates no tags folder for Default");
    }

    [Test]
    public async Task Experiment_round_trip_with_tags_and_awkward_names()
    {
        foreach (var name in new[] { "a: b # c", "'quoted' \"double\"", " lead", "日本語 😀", "123", "null", "true", "line\nbreak", "x" })
        {
            var id = await Store.CreateExperimentAsync(name, null, [new Tag("team", "dotnet"), new Tag("nested/k", "v\nw")], None);
            Assert.That(id, Does.Match("^[1-9][0-9]{17}$"));
            var exp = await Store.GetExperimentAsync(id, None);
            Assert.That(exp.Name, Is.EqualTo(name));
            Assert.That(exp.ExperimentId, Is.EqualTo(id));
            Assert.That(exp.LifecycleStage, Is.EqualTo(LifecycleStage.Active));
            Assert.That(exp.ArtifactLocation, Is.EqualTo(FileStorePaths.ToFileUri(Root) + "/" + id));
            Assert.That(exp.Tags, Is.EqualTo(new[] { new Tag("nested/k", "v\nw"), new Tag("team", "dotnet") }));
            Assert.That((await Store.GetExperimentByNameAsync(name, None))!.ExperimentId, Is.EqualTo(id));
            Assert.That(Text(Path.Combine(Root, id, "tags", "team")), Is.EqualTo("dotnet"));
        }
    }

    [Test]
    public async Task Duplicate_experiment_name_is_refused_even_when_deleted()
    {
        var id = await Store.CreateExperimentAsync("dup", null, null, None);
        var ex = Assert.ThrowsAsync<MlflowException>(() => Store.CreateExperimentAsync("dup", null, null, None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceAlreadyExists));
        await Store.DeleteExperimentAsync(id, None);
        ex = Assert.ThrowsAsync<MlflowException>(() => Store.CreateExperimentAsync("dup", null, null, None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceAlreadyExists));
    }

    [Test]
    public async Task Delete_and_restore_experiment_moves_folder_and_cascades_to_runs()
    {
        var (exp, run) = await NewRunAsync();
        await Store.SetExperimentTagAsync(exp, "team", "dotnet", None);
        await Store.DeleteExperimentAsync(exp, None);
        Assert.That(Directory.Exists(Path.Combine(Root, exp)), Is.False);
        var trashMeta = Text(Path.Combine(Root, ".trash", exp, "meta.yaml"));
        Assert.That(trashMeta, Does.Contain("lifecycle_stage: deleted\n").And.Contain("tags:\n  team: dotnet\n"));
        Assert.That((await Store.GetExperimentAsync(exp, None)).LifecycleStage, Is.EqualTo(LifecycleStage.Deleted));
        var deletedRun = await Store.GetRunAsync(run.Info.RunId, None);
        Assert.That(deletedRun.Info.LifecycleStage, Is.EqualTo(LifecycleStage.Deleted));
        Assert.That(Text(Path.Combine(Root, ".trash", exp, run.Info.RunId, "meta.yaml")), Does.Match("deleted_time: \\d{13}\n"));
        Assert.ThrowsAsync<MlflowException>(() => Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1)], [], [], None));

        var active = await Store.SearchExperimentsAsync(new ExperimentSearchOptions(), null, None);
        Assert.That(active.Items.Select(e => e.ExperimentId), Does.Not.Contain(exp));
        var deleted = await Store.SearchExperimentsAsync(new ExperimentSearchOptions { ViewType = ViewType.DeletedOnly }, null, None);
        Assert.That(deleted.Items.Select(e => e.ExperimentId), Is.EqualTo(new[] { exp }));

        await Store.RestoreExperimentAsync(exp, None);
        Assert.That(Directory.Exists(Path.Combine(Root, ".trash", exp)), Is.False);
        Assert.That((await Store.GetExperimentAsync(exp, None)).LifecycleStage, Is.EqualTo(LifecycleStage.Active));
        var restored = await Store.GetRunAsync(run.Info.RunId, None);
        Assert.That(restored.Info.LifecycleStage, Is.EqualTo(LifecycleStage.Active));
        Assert.That(Text(Path.Combine(Root, exp, run.Info.RunId, "meta.yaml")), Does.Not.Contain("deleted_time"));
        await Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1)], [], [], None);
    }

    [Test]
    public void Default_experiment_cannot_be_deleted()
        => Assert.ThrowsAsync<MlflowException>(() => Store.DeleteExperimentAsync("0", None));

    [Test]
    public async Task Run_meta_yaml_has_every_mlflow_key_in_order()
    {
        var (exp, run) = await NewRunAsync("my-run");
        var id = run.Info.RunId;
        Assert.That(id, Does.Match("^[0-9a-f]{32}$"));
        var meta = Text(Path.Combine(Root, exp, id, "meta.yaml"));
        var expected =
            $"artifact_uri: {FileStorePaths.ToFileUri(Root)}/{exp}/{id}/artifacts\n" +
            "deleted_time: null\nend_time: null\nentry_point_name: ''\n" +
            $"experiment_id: '{exp}'\nlifecycle_stage: active\nrun_id: {id}\nrun_name: my-run\nrun_uuid: {id}\n" +
            "source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\nstatus: 1\ntags: []\nuser_id: tester\n";
        Assert.That(meta, Is.EqualTo(expected));
        foreach (var folder in new[] { "metrics", "params", "artifacts", "tags" })
        {
            Assert.That(Directory.Exists(Path.Combine(Root, exp, id, folder)), Is.True, folder);
        }

        var info = await Store.UpdateRunAsync(id, RunStatus.Finished, 1_700_000_000_500, null, None);
        Assert.That(info.Status, Is.EqualTo(RunStatus.Finished));
        meta = Text(Path.Combine(Root, exp, id, "meta.yaml"));
        Assert.That(meta, Does.StartWith($"artifact_uri: {FileStorePaths.ToFileUri(Root)}/{exp}/{id}/artifacts\nend_time: 1700000000500\n"));
        Assert.That(meta, Does.Contain("status: 3\n"));

        await Store.DeleteRunAsync(id, None);
        meta = Text(Path.Combine(Root, exp, id, "meta.yaml"));
        Assert.That(meta, Does.Match("^artifact_uri: .*\ndeleted_time: \\d{13}\nend_time: 1700000000500\n"));
        Assert.That(meta, Does.Contain("lifecycle_stage: deleted\n"));
        var ex = Assert.ThrowsAsync<MlflowException>(() => Store.LogBatchAsync(id, [], [new Param("p", "1")], [], None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(File.Exists(Path.Combine(Root, exp, id, "params", "p")), Is.False);
        await Store.RestoreRunAsync(id, None);
        Assert.That(Text(Path.Combine(Root, exp, id, "meta.yaml")), Does.Not.Contain("deleted_time").And.Contain("lifecycle_stage: active\n"));
    }

    [Test]
    public async Task Generated_run_name_and_run_name_tag_stay_in_sync()
    {
        var (_, run) = await NewRunAsync();
        Assert.That(run.Info.RunName, Does.Match("^[a-z]+-[a-z]+-[0-9]{1,3}$"));
        Assert.That(run.Info.RunName!.Length, Is.LessThanOrEqualTo(20));
        Assert.That(run.Data.Tags, Does.Contain(new Tag("mlflow.runName", run.Info.RunName)));

        await Store.LogBatchAsync(run.Info.RunId, [], [], [new Tag("mlflow.runName", "renamed")], None);
        Assert.That((await Store.GetRunAsync(run.Info.RunId, None)).Info.RunName, Is.EqualTo("renamed"));
        await Store.UpdateRunAsync(run.Info.RunId, null, null, "again", None);
        var after = await Store.GetRunAsync(run.Info.RunId, None);
        Assert.That(after.Info.RunName, Is.EqualTo("again"));
        Assert.That(after.Data.Tags, Does.Contain(new Tag("mlflow.runName", "again")));

        var exp = await Store.CreateExperimentAsync("names", null, null, None);
        var ex = Assert.ThrowsAsync<MlflowException>(() => Store.CreateRunAsync(exp, "a", 1, [new Tag("mlflow.runName", "b")], null, None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        var fromTag = await Store.CreateRunAsync(exp, null, 1, [new Tag("mlflow.runName", "from-tag")], null, None);
        Assert.That(fromTag.Info.RunName, Is.EqualTo("from-tag"));
    }

    [Test]
    public void Generated_names_are_at_most_20_characters()
    {
        var (adjectives, nouns) = RunNameGenerator.Words;
        Assert.That(adjectives.Max(a => a.Length) + nouns.Max(n => n.Length) + 5, Is.LessThanOrEqualTo(RunNameGenerator.MaxLength));
        for (var i = 0; i < 200; i++)
        {
            Assert.That(RunNameGenerator.Next(), Does.Match("^[a-z]+-[a-z]+-([0-9]|[1-9][0-9]{1,2})$").And.Length.LessThanOrEqualTo(20));
        }
    }

    [Test]
    public async Task Log_batch_round_trip_params_tags_metrics()
    {
        var (exp, run) = await NewRunAsync("rt");
        var id = run.Info.RunId;
        await Store.LogBatchAsync(id,
            [new Metric("loss", 1.0, 10, 0), new Metric("loss", 0.5, 11, 1), new Metric("nested/metric", double.NaN, 12, 0),
             new Metric("loss", 0.25, 9, 1), new Metric("inf", double.PositiveInfinity, 5, 2), new Metric("inf", double.NegativeInfinity, 6, 2)],
            [new Param("lr", "5e-05"), new Param("deep/p", "x y")],
            [new Tag("multi.line", "line one\nline two"), new Tag("nested/key", "v")], None);

        Assert.That(Text(Path.Combine(Root, exp, id, "metrics", "loss")), Is.EqualTo("10 1.0 0\n11 0.5 1\n9 0.25 1\n"));
        Assert.That(Text(Path.Combine(Root, exp, id, "metrics", "nested", "metric")), Is.EqualTo("12 nan 0\n"));
        Assert.That(Bytes(Path.Combine(Root, exp, id, "params", "lr")), Is.EqualTo("5e-05"u8.ToArray()));
        Assert.That(Bytes(Path.Combine(Root, exp, id, "tags", "multi.line")), Is.EqualTo("line one\nline two"u8.ToArray()));

        var got = await Store.GetRunAsync(id, None);
        Assert.That(got.Data.Params, Is.EqualTo(new[] { new Param("deep/p", "x y"), new Param("lr", "5e-05") }));
        Assert.That(got.Data.Tags, Does.Contain(new Tag("multi.line", "line one\nline two")).And.Contain(new Tag("nested/key", "v")));
        var latest = got.Data.Metrics.ToDictionary(m => m.Key);
        Assert.That(latest["loss"], Is.EqualTo(new Metric("loss", 0.5, 11, 1)), "max by (step, timestamp, value)");
        Assert.That(latest["inf"], Is.EqualTo(new Metric("inf", double.NegativeInfinity, 6, 2)));
        Assert.That(double.IsNaN(latest["nested/metric"].Value), Is.True);

        var history = await Store.GetMetricHistoryAsync(id, "loss", None);
        Assert.That(history, Is.EqualTo(new[] { new Metric("loss", 1.0, 10, 0), new Metric("loss", 0.5, 11, 1), new Metric("loss", 0.25, 9, 1) }));
        Assert.That(await Store.GetMetricHistoryAsync(id, "absent", None), Is.Empty);
    }

    [Test]
    public async Task Retried_identical_point_is_appended_twice_like_mlflow()
    {
        var (exp, run) = await NewRunAsync();
        var point = new Metric("retried", 0.42, 1_700_000_000_100, 0);
        await Store.LogBatchAsync(run.Info.RunId, [point], [], [], None);
        await Store.LogBatchAsync(run.Info.RunId, [point], [], [], None);
        Assert.That(Text(Path.Combine(Root, exp, run.Info.RunId, "metrics", "retried")), Is.EqualTo("1700000000100 0.42 0\n1700000000100 0.42 0\n"));
    }

    [Test]
    public async Task Param_relog_same_value_ok_other_value_refused_like_server()
    {
        var (_, run) = await NewRunAsync();
        await Store.LogBatchAsync(run.Info.RunId, [], [new Param("p", "1")], [], None);
        await Store.LogBatchAsync(run.Info.RunId, [], [new Param("p", "1")], [], None);
        var ex = Assert.ThrowsAsync<MlflowException>(() => Store.LogBatchAsync(run.Info.RunId, [], [new Param("p", "2")], [], None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(ex.Message, Does.Contain("Changing param values is not allowed"));
        ex = Assert.ThrowsAsync<MlflowException>(() => Store.LogBatchAsync(run.Info.RunId, [], [new Param("q", "1"), new Param("q", "1")], [], None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
    }

    [Test]
    public async Task Long_values_are_cut_like_the_server_or_refused_when_asked()
    {
        var (exp, run) = await NewRunAsync();
        var longParam = new string('p', 6001);
        var emojiTag = string.Concat(Enumerable.Repeat("😀", 5001));
        await Store.LogBatchAsync(run.Info.RunId, [], [new Param("p", longParam)], [new Tag("t", emojiTag)], None);
        Assert.That(Text(Path.Combine(Root, exp, run.Info.RunId, "params", "p")), Has.Length.EqualTo(6000));
        var tag = Text(Path.Combine(Root, exp, run.Info.RunId, "tags", "t"));
        Assert.That(tag, Has.Length.EqualTo(10000), "5000 code points, never half a surrogate pair");

        using var strict = new LocalFileStore(Root) { RefuseLongValues = true };
        var ex = Assert.ThrowsAsync<MlflowValidationException>(() => strict.LogBatchAsync(run.Info.RunId, [], [new Param("p2", longParam)], [], None));
        Assert.That(ex!.Message, Does.Contain("p2").And.Contain("6000"));
        Assert.ThrowsAsync<MlflowValidationException>(() => Store.LogBatchAsync(run.Info.RunId, [], [], [new Tag("lone", "a\uD800b")], None));
    }

    [Test]
    public async Task Delete_tag()
    {
        var (exp, run) = await NewRunAsync();
        await Store.LogBatchAsync(run.Info.RunId, [], [], [new Tag("x", "1")], None);
        await Store.DeleteTagAsync(run.Info.RunId, "x", None);
        Assert.That(File.Exists(Path.Combine(Root, exp, run.Info.RunId, "tags", "x")), Is.False);
        var ex = Assert.ThrowsAsync<MlflowException>(() => Store.DeleteTagAsync(run.Info.RunId, "x", None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }

    [Test]
    public void Unknown_run_and_experiment_are_not_found()
    {
        var ex = Assert.ThrowsAsync<MlflowException>(() => Store.GetRunAsync(new string('a', 32), None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        ex = Assert.ThrowsAsync<MlflowException>(() => Store.GetExperimentAsync("123", None));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }

    [Test]
    public async Task Artifacts_are_written_and_listed()
    {
        var (exp, run) = await NewRunAsync();
        await Store.LogArtifactAsync(run.Info.RunId, "reports/summary.txt", new MemoryStream("hello"u8.ToArray()), None);
        await Store.LogArtifactAsync(run.Info.RunId, "model.bin", new MemoryStream(new byte[10]), None);
        Assert.That(Text(Path.Combine(Root, exp, run.Info.RunId, "artifacts", "reports", "summary.txt")), Is.EqualTo("hello"));
        var top = await Store.ListArtifactsAsync(run.Info.RunId, null, None);
        Assert.That(top, Is.EqualTo(new[] { new ArtifactFileInfo("model.bin", false, 10), new ArtifactFileInfo("reports", true) }));
        var sub = await Store.ListArtifactsAsync(run.Info.RunId, "reports", None);
        Assert.That(sub, Is.EqualTo(new[] { new ArtifactFileInfo("reports/summary.txt", false, 5) }));
    }

    [Test]
    public async Task Dataset_inputs_round_trip()
    {
        var (_, run) = await NewRunAsync();
        var input = new DatasetInput
        {
            Tags = [new Tag("mlflow.data.context", "training")],
            Dataset = new Dataset { Name = "train", Digest = "abc123", SourceType = "local", Source = "{\"uri\": \"/data/train.csv\"}", Schema = "{}" },
        };
        await Store.LogInputsAsync(run.Info.RunId, [input], None);
        await Store.LogInputsAsync(run.Info.RunId, [input], None);
        var got = await Store.GetRunAsync(run.Info.RunId, None);
        Assert.That(got.Inputs.DatasetInputs, Has.Count.EqualTo(1));
        Assert.That(got.Inputs.DatasetInputs[0].Dataset, Is.EqualTo(input.Dataset));
        Assert.That(got.Inputs.DatasetInputs[0].Tags, Is.EqualTo(input.Tags));
    }

    [Test]
    public async Task Search_runs_filters_orders_and_pages()
    {
        var exp = await Store.CreateExperimentAsync("search", null, null, None);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var r = await Store.CreateRunAsync(exp, "run-" + i, 1000 + i, [new Tag("kind", i % 2 == 0 ? "even" : "odd")], "u", None);
            await Store.LogBatchAsync(r.Info.RunId, [new Metric("acc", i / 10.0, 1)], [new Param("lr", i.ToString(System.Globalization.CultureInfo.InvariantCulture))], [], None);
            ids.Add(r.Info.RunId);
        }

        await Store.UpdateRunAsync(ids[4], RunStatus.Finished, 2000, null, None);
        await Store.DeleteRunAsync(ids[3], None);

        async Task<string[]> Names(string? filter, IReadOnlyList<string>? orderBy = null, ViewType? view = null)
            => (await Store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [exp], Filter = filter, OrderBy = orderBy, ViewType = view }, null, None))
                .Items.Select(r => r.Info.RunName!).ToArray();

        Assert.That(await Names(null), Is.EqualTo(new[] { "run-4", "run-2", "run-1", "run-0" }), "start_time DESC, active only");
        Assert.That(await Names(null, view: ViewType.All), Has.Length.EqualTo(5));
        Assert.That(await Names(null, view: ViewType.DeletedOnly), Is.EqualTo(new[] { "run-3" }));
        Assert.That(await Names("metrics.acc >= 0.2"), Is.EqualTo(new[] { "run-4", "run-2" }));
        Assert.That(await Names("metrics.acc > 0.05 and params.lr = '1'"), Is.EqualTo(new[] { "run-1" }));
        Assert.That(await Names("tags.kind = 'odd'"), Is.EqualTo(new[] { "run-1" }));
        Assert.That(await Names("attributes.status = 'FINISHED'"), Is.EqualTo(new[] { "run-4" }));
        Assert.That(await Names("attributes.run_name = 'run-2'"), Is.EqualTo(new[] { "run-2" }));
        Assert.That(await Names("tags.mlflow.runName = 'run-0'"), Is.EqualTo(new[] { "run-0" }));
        Assert.That(await Names("attributes.run_name LIKE 'run-%' AND tags.kind != 'odd'"), Is.EqualTo(new[] { "run-4", "run-2", "run-0" }));
        Assert.That(await Names("attributes.status IN ('FINISHED', 'KILLED')"), Is.EqualTo(new[] { "run-4" }));
        Assert.That(await Names(null, ["metrics.acc ASC"]), Is.EqualTo(new[] { "run-0", "run-1", "run-2", "run-4" }));
        Assert.That(await Names(null, ["attributes.run_name ASC"]), Is.EqualTo(new[] { "run-0", "run-1", "run-2", "run-4" }));
        Assert.ThrowsAsync<MlflowException>(() => Names("metrics.acc ~ 1"));
        Assert.ThrowsAsync<MlflowException>(() => Names("params.lr > 'x'"));

        var seen = new List<string>();
        string? token = null;
        for (var page = 0; page < 10; page++)
        {
            var p = await Store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [exp], MaxResults = 3, ViewType = ViewType.All }, token, None);
            seen.AddRange(p.Items.Select(r => r.Info.RunId));
            token = p.NextPageToken;
            if (token is null)
            {
                break;
            }
        }

        Assert.That(seen, Is.EquivalentTo(ids));
        Assert.ThrowsAsync<MlflowException>(() => Store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [exp] }, "not-a-token", None));
    }

    [Test]
    public async Task Search_experiments_filters_and_pages()
    {
        foreach (var n in new[] { "bert-base", "bert-large", "gpt" })
        {
            await Store.CreateExperimentAsync(n, null, n == "gpt" ? [new Tag("team", "x")] : null, None);
        }

        async Task<string[]> Names(string? filter) => (await Store.SearchExperimentsAsync(new ExperimentSearchOptions { Filter = filter, OrderBy = ["name ASC"] }, null, None)).Items.Select(e => e.Name).ToArray();
        Assert.That(await Names(null), Is.EqualTo(new[] { "Default", "bert-base", "bert-large", "gpt" }));
        Assert.That(await Names("name LIKE 'bert%'"), Is.EqualTo(new[] { "bert-base", "bert-large" }));
        Assert.That(await Names("name ILIKE 'BERT-B%'"), Is.EqualTo(new[] { "bert-base" }));
        Assert.That(await Names("name = 'gpt'"), Is.EqualTo(new[] { "gpt" }));
        Assert.That(await Names("tags.team = 'x'"), Is.EqualTo(new[] { "gpt" }));

        var first = await Store.SearchExperimentsAsync(new ExperimentSearchOptions { MaxResults = 2 }, null, None);
        Assert.That(first.Items, Has.Count.EqualTo(2));
        Assert.That(first.NextPageToken, Is.Not.Null);
        var second = await Store.SearchExperimentsAsync(new ExperimentSearchOptions { MaxResults = 2 }, first.NextPageToken, None);
        Assert.That(second.Items, Has.Count.EqualTo(2));
        Assert.That(second.NextPageToken, Is.Null);
        Assert.That(first.Items.Concat(second.Items).Select(e => e.Name).Distinct().Count(), Is.EqualTo(4));
    }

    [Test]
    public async Task Torn_last_line_is_skipped_reported_and_cut_before_the_next_append()
    {
        var (exp, run) = await NewRunAsync();
        var path = Path.Combine(Root, exp, run.Info.RunId, "metrics", "m");
        File.WriteAllText(path, "1 1.0 0\n2 2.0 1\n3 3.", Encoding.ASCII);
        var reported = new List<string>();
        Store.TornLineObserved = (p, line, reason) => reported.Add($"{line}:{reason}");

        var history = await Store.GetMetricHistoryAsync(run.Info.RunId, "m", None);
        Assert.That(history.Select(m => m.Step), Is.EqualTo(new long[] { 0, 1 }));
        Assert.That(Store.TornLinesSkipped, Is.EqualTo(1));
        Assert.That(reported, Has.Count.EqualTo(1).And.Some.StartsWith("3:"));
        Assert.That((await Store.GetRunAsync(run.Info.RunId, None)).Data.Metrics.Single().Value, Is.EqualTo(2.0));

        await Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 4.0, 4, 2)], [], [], None);
        Assert.That(Text(path), Is.EqualTo("1 1.0 0\n2 2.0 1\n4 4.0 2\n"));
    }

    [Test]
    public async Task Reads_two_and_five_field_lines_and_skips_malformed_ones()
    {
        var (exp, run) = await NewRunAsync();
        var path = Path.Combine(Root, exp, run.Info.RunId, "metrics", "m");
        File.WriteAllText(path, "5 0.5\n6 NaN 3 ds digest\ngarbage\n7 Infinity 4\n", Encoding.ASCII);
        var history = await Store.GetMetricHistoryAsync(run.Info.RunId, "m", None);
        Assert.That(history, Has.Count.EqualTo(3));
        Assert.That(history[0], Is.EqualTo(new Metric("m", 0.5, 5, 0)));
        Assert.That(double.IsNaN(history[1].Value) && history[1].Step == 3, Is.True);
        Assert.That(history[2], Is.EqualTo(new Metric("m", double.PositiveInfinity, 7, 4)));
        Assert.That(Store.TornLinesSkipped, Is.EqualTo(1));
    }

    [Test]
    public async Task External_append_between_batches_is_not_overwritten()
    {
        var (exp, run) = await NewRunAsync();
        var path = Path.Combine(Root, exp, run.Info.RunId, "metrics", "m");
        await Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1, 0)], [], [], None);
        File.AppendAllText(path, "2 2.0 1\n");
        await Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 3, 3, 2)], [], [], None);
        Assert.That(Text(path), Is.EqualTo("1 1.0 0\n2 2.0 1\n3 3.0 2\n"));
    }

    [Test]
    public async Task Metric_file_handles_stay_bounded()
    {
        var (_, run) = await NewRunAsync();
        for (var b = 0; b < 4; b++)
        {
            var batch = Enumerable.Range(0, 100).Select(i => new Metric($"k{b * 100 + i}", i, 1)).ToList();
            await Store.LogBatchAsync(run.Info.RunId, batch, [], [], None);
        }

        Assert.That(RunWriters.OpenHandles, Is.LessThanOrEqualTo(RunWriters.MaxHandlesTotal));
        var got = await Store.GetRunAsync(run.Info.RunId, None);
        Assert.That(got.Data.Metrics, Has.Count.EqualTo(400));
    }

    [Test]
    public async Task FlushToDisk_and_dispose_keep_data()
    {
        var (exp, run) = await NewRunAsync();
        await Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1)], [], [], None);
        Store.FlushToDisk();
        Store.Dispose();
        using var reopened = new LocalFileStore(Root);
        await reopened.LogBatchAsync(run.Info.RunId, [new Metric("m", 2, 2)], [], [], None);
        Assert.That(Text(Path.Combine(Root, exp, run.Info.RunId, "metrics", "m")), Is.EqualTo("1 1.0 0\n2 2.0 0\n"));
    }

    [Test]
    public async Task Disposing_a_second_store_on_the_folder_leaves_the_first_ones_files_open_and_the_last_closes_them()
    {
        var (_, run) = await NewRunAsync();
        await Store.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1)], [], [], None);
        Assert.That(RunWriters.OpenHandlesUnder(Root), Is.EqualTo(1), "premise: the metric file is open");

        var reader = new LocalFileStore(Root); // a client reading runs back from the same folder
        _ = await reader.GetRunAsync(run.Info.RunId, None);
        reader.Dispose();
        reader.Dispose();
        Assert.That(RunWriters.OpenHandlesUnder(Root), Is.EqualTo(1), "the first store's metric file stays open");

        Store.Dispose();
        Assert.That(RunWriters.OpenHandlesUnder(Root), Is.Zero, "the last store on the folder closes its files");
    }
}
