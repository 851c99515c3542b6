using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms.Text;

namespace Mlflow.Samples;

/// <summary>The ML.NET output row: predicted label and calibrated probability of "positive".</summary>
internal sealed class SentimentPrediction
{
    /// <summary>The predicted label.</summary>
    [ColumnName("PredictedLabel")]
    public bool Prediction { get; set; }

    /// <summary>The probability of the positive label.</summary>
    public float Probability { get; set; }
}

/// <summary>A sentiment classifier: a trained ML.NET pipeline (text featurizer + binary trainer).</summary>
internal sealed record SentimentModel(string Name, ITransformer Model, DataViewSchema InputSchema)
{
    /// <summary>Predicts the test reviews: labels as "positive"/"negative" and the probability of positive.</summary>
    public (List<string> Labels, List<double> Scores) Predict(MLContext ml, IReadOnlyList<Review> reviews)
    {
        var scored = Model.Transform(ml.Data.LoadFromEnumerable(reviews));
        var rows = ml.Data.CreateEnumerable<SentimentPrediction>(scored, reuseRowObject: false).ToList();
        return (rows.Select(r => SentimentModels.LabelName(r.Prediction)).ToList(), rows.Select(r => (double)r.Probability).ToList());
    }

    /// <summary>Saves the model as ML.NET's .zip.</summary>
    public string Save(MLContext ml, string path)
    {
        ml.Model.Save(Model, InputSchema, path);
        return path;
    }

    /// <summary>
    /// Exports the model to ONNX (Microsoft.ML.OnnxConverter): the whole pipeline, text featurizer included, so the graph
    /// takes the raw review as its one input <c>Text</c> (a string tensor) and outputs <c>PredictedLabel</c>,
    /// <c>Score</c> and <c>Probability</c>. Every trainer of <see cref="SentimentModels.Known"/> converts.
    /// </summary>
    public string ExportOnnx(MLContext ml, string path)
    {
        // The schema the graph's inputs are made from: the text only, as the label is not needed to predict.
        var input = ml.Data.LoadFromEnumerable(new[] { new ReviewText() });
        using var onnx = new MemoryStream();
        ml.Model.ConvertToOnnx(Model, input, onnx);
        File.WriteAllBytes(path, OnnxExport.ImportMicrosoftDomain(onnx.ToArray()));
        return path;
    }
}

/// <summary>The model's input without the label: the ONNX graph's one input.</summary>
internal sealed class ReviewText
{
    /// <summary>The review text.</summary>
    public string Text { get; set; } = "";
}

/// <summary>The classifiers the samples train, all on <c>FeaturizeText</c> features.</summary>
internal static class SentimentModels
{
    /// <summary>The ML.NET version the models are trained with (logged as a param).</summary>
    public static string MlNetVersion => (typeof(MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown").Split('+')[0];

    /// <summary>Label names used in the evaluation (the positive label is "positive").</summary>
    public static string LabelName(bool positive) => positive ? "positive" : "negative";

    /// <summary>The trainer names <see cref="Train"/> knows, with the version of each model definition.</summary>
    public static readonly IReadOnlyList<(string Name, string Version)> Known =
    [
        ("SdcaLogisticRegression", "1"),
        ("LbfgsLogisticRegression", "1"),
        ("AveragedPerceptron", "1"),
    ];

    /// <summary>Trains one of <see cref="Known"/> on the reviews (the perceptron gets a Platt calibrator so it has probabilities).</summary>
    public static SentimentModel Train(MLContext ml, string name, IReadOnlyList<Review> train, int iterations = 10, float learningRate = 1f)
    {
        var data = ml.Data.LoadFromEnumerable(train);
        var features = Featurizer(ml);
        ITransformer model = name switch
        {
            "SdcaLogisticRegression" => features.Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(maximumNumberOfIterations: iterations * 10)).Fit(data),
            "LbfgsLogisticRegression" => features.Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression()).Fit(data),
            "AveragedPerceptron" => features.Append(ml.BinaryClassification.Trainers.AveragedPerceptron(learningRate: learningRate, numberOfIterations: iterations))
                .Append(ml.BinaryClassification.Calibrators.Platt()).Fit(data),
            _ => throw new ArgumentException($"Unknown trainer {name}.", nameof(name)),
        };
        return new SentimentModel(name, model, data.Schema);
    }

    /// <summary>
    /// ML.NET's text featurizer with its defaults but for diacritics, which it keeps: its ONNX export can only lower
    /// the case (removing diacritics does not convert), and the shipped reviews are ASCII, so the features are the same.
    /// </summary>
    private static TextFeaturizingEstimator Featurizer(MLContext ml)
        => ml.Transforms.Text.FeaturizeText("Features", new TextFeaturizingEstimator.Options { KeepDiacritics = true }, nameof(Review.Text));

    /// <summary>
    /// Trains an averaged perceptron one epoch at a time (ML.NET's online trainers continue from the previous
    /// weights), calling <paramref name="afterEpoch"/> with the epoch and the accuracy and F1 on <paramref name="test"/>.
    /// </summary>
    public static SentimentModel TrainPerceptronByEpoch(MLContext ml, IReadOnlyList<Review> train, IReadOnlyList<Review> test, float learningRate, int epochs, Action<int, double, double> afterEpoch)
    {
        var trainData = ml.Data.LoadFromEnumerable(train);
        var featurizer = Featurizer(ml).Fit(trainData);
        var trainFeatures = featurizer.Transform(trainData);
        var testFeatures = featurizer.Transform(ml.Data.LoadFromEnumerable(test));
        var trainer = ml.BinaryClassification.Trainers.AveragedPerceptron(learningRate: learningRate, numberOfIterations: 1);
        BinaryPredictionTransformer<LinearBinaryModelParameters>? model = null;
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            model = model is null ? trainer.Fit(trainFeatures) : trainer.Fit(trainFeatures, model.Model);
            var metrics = ml.BinaryClassification.EvaluateNonCalibrated(model.Transform(testFeatures));
            afterEpoch(epoch, metrics.Accuracy, metrics.F1Score);
        }

        var calibrated = ml.BinaryClassification.Calibrators.Platt().Fit(model!.Transform(trainFeatures));
        return new SentimentModel("AveragedPerceptron", featurizer.Append(model).Append(calibrated), trainData.Schema);
    }
}
