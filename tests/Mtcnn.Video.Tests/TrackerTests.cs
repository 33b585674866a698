namespace Mtcnn.Video.Tests;

/// <summary>The IoU tracker on hand-made detections: ids, association, smoothing arithmetic, expiry.</summary>
public sealed class TrackerTests
{
    private static readonly TrackerOptions Raw = new() { Smoothing = 0f };

    /// <summary>Every face reported from its first detection (no confirmation), for tests about ids and association.</summary>
    private static readonly TrackerOptions Immediate = new() { MinHits = 1 };

    /// <summary>A 100x100 face with its top-left corner at (x, y) and landmarks placed relative to it.</summary>
    private static Face FaceAt(float x, float y, float size = 100f, float score = 0.99f) => new(
        new BoundingBox(x, y, x + size, y + size),
        score,
        new FaceLandmarks(
            new Point2F(x + (0.3f * size), y + (0.4f * size)),
            new Point2F(x + (0.7f * size), y + (0.4f * size)),
            new Point2F(x + (0.5f * size), y + (0.6f * size)),
            new Point2F(x + (0.35f * size), y + (0.8f * size)),
            new Point2F(x + (0.65f * size), y + (0.8f * size))));

    [Fact]
    public void A_face_moving_across_frames_keeps_id_1()
    {
        var tracker = new FaceTracker(Raw);
        for (int frame = 0; frame < 50; frame++)
        {
            var face = Assert.Single(tracker.Update([FaceAt(10 * frame, 20)]));
            Assert.Equal(1, face.Id);
            Assert.Equal(frame + 1, face.Hits);
            Assert.Equal(0, face.Missed);
        }

        Assert.Equal(1, tracker.TracksCreated);
    }

    [Fact]
    public void A_new_face_gets_the_next_id_and_the_old_one_keeps_its_own()
    {
        var tracker = new FaceTracker(Immediate);
        tracker.Update([FaceAt(0, 0)]);
        tracker.Update([FaceAt(5, 0)]);
        var faces = tracker.Update([FaceAt(400, 0, score: 0.999f), FaceAt(10, 0)]);

        Assert.Equal([1, 2], faces.Select(f => f.Id));
        Assert.True(faces[0].Box.X1 < 100 && faces[1].Box.X1 >= 400, "id 1 is still the face on the left");
        Assert.Equal(2, tracker.TracksCreated);
    }

    [Fact]
    public void Several_new_faces_are_numbered_in_the_order_given_best_first()
    {
        var tracker = new FaceTracker();
        var faces = tracker.Update([FaceAt(300, 0, score: 0.99f), FaceAt(0, 0, score: 0.95f), FaceAt(600, 0, score: 0.9f)]);

        Assert.Equal([(1, 300f), (2, 0f), (3, 600f)], faces.Select(f => (f.Id, f.Box.X1)));
    }

    [Fact]
    public void A_face_missed_for_fewer_than_K_detections_returns_with_its_id_but_is_hidden_meanwhile()
    {
        var tracker = new FaceTracker(new TrackerOptions { ExpireAfterMisses = 3 });
        tracker.Update([FaceAt(0, 0)]);

        Assert.Empty(tracker.Update([]));
        Assert.Empty(tracker.Update([]));
        var coasting = Assert.Single(tracker.Tracks);
        Assert.Equal(2, coasting.Missed);

        var back = Assert.Single(tracker.Update([FaceAt(3, 0)]));
        Assert.Equal(1, back.Id);
        Assert.Equal(0, back.Missed);
        Assert.Equal(2, back.Hits);
    }

    [Fact]
    public void A_face_missed_for_K_detections_expires_and_comes_back_with_a_new_id()
    {
        var tracker = new FaceTracker(new TrackerOptions { ExpireAfterMisses = 3, MinHits = 1 });
        tracker.Update([FaceAt(0, 0)]);
        tracker.Update([]);
        tracker.Update([]);
        Assert.Single(tracker.Tracks);

        tracker.Update([]);
        Assert.Empty(tracker.Tracks);

        var back = Assert.Single(tracker.Update([FaceAt(0, 0)]));
        Assert.Equal(2, back.Id);
    }

    [Fact]
    public void Expiry_after_1_drops_a_track_at_its_first_miss()
    {
        var tracker = new FaceTracker(new TrackerOptions { ExpireAfterMisses = 1 });
        tracker.Update([FaceAt(0, 0)]);
        tracker.Update([]);

        Assert.Empty(tracker.Tracks);
    }

    [Fact]
    public void Smoothing_blends_the_previous_value_and_the_detection_exponentially()
    {
        var tracker = new FaceTracker(new TrackerOptions { Smoothing = 0.5f });
        tracker.Update([FaceAt(0, 0)]);

        var first = Assert.Single(tracker.Update([FaceAt(10, 20, score: 0.8f)]));
        Assert.Equal(new BoundingBox(5, 10, 105, 110), first.Box);
        Assert.Equal(0.8f, first.Score); // the score is the latest detection's, not smoothed
        Assert.Equal(new Point2F(35, 50), first.Landmarks.LeftEye); // (30, 40) and (40, 60) blended
        Assert.Equal(new Point2F(70, 90), first.Landmarks.MouthRight); // (65, 80) and (75, 100)

        // s <- 0.5 s + 0.5 d again: 5 -> 7.5 -> 8.75, converging on the detection geometrically.
        var second = Assert.Single(tracker.Update([FaceAt(10, 20)]));
        Assert.Equal(new BoundingBox(7.5f, 15, 107.5f, 115), second.Box);
        var third = Assert.Single(tracker.Update([FaceAt(10, 20)]));
        Assert.Equal(8.75f, third.Box.X1);
    }

    [Theory]
    [InlineData(0.2f)]
    [InlineData(0.7f)]
    [InlineData(0.9f)]
    public void Smoothing_follows_the_formula_for_any_alpha(float alpha)
    {
        var tracker = new FaceTracker(new TrackerOptions { Smoothing = alpha });
        tracker.Update([FaceAt(0, 0)]);
        var face = Assert.Single(tracker.Update([FaceAt(20, 0)]));

        float expected = (alpha * 0) + ((1 - alpha) * 20);
        Assert.True(Math.Abs(face.Box.X1 - expected) <= 1e-5f, $"{face.Box.X1} vs {expected}");
        Assert.True(Math.Abs(face.Landmarks.Nose.X - (50 + expected)) <= 1e-4f);
    }

    [Fact]
    public void Alpha_0_reports_raw_detections_and_a_new_track_starts_unsmoothed()
    {
        var tracker = new FaceTracker(Raw);
        var start = Assert.Single(tracker.Update([FaceAt(7, 9)]));
        Assert.Equal(FaceAt(7, 9).Box, start.Box);

        var moved = Assert.Single(tracker.Update([FaceAt(31, 9)]));
        Assert.Equal(FaceAt(31, 9).Box, moved.Box);
        Assert.Equal(FaceAt(31, 9).Landmarks, moved.Landmarks);
    }

    [Fact]
    public void Association_uses_the_last_detected_box_so_heavy_smoothing_does_not_lose_a_fast_face()
    {
        // With alpha 0.9 the smoothed box lags far behind a face moving 40 px per detection; matched against the last
        // detection (IoU 0.43 for 100 px boxes 40 px apart) the face keeps its id.
        var tracker = new FaceTracker(new TrackerOptions { Smoothing = 0.9f, IouThreshold = 0.3f });
        for (int frame = 0; frame < 20; frame++)
        {
            Assert.Equal(1, Assert.Single(tracker.Update([FaceAt(40 * frame, 0)])).Id);
        }
    }

    [Fact]
    public void Crossing_faces_keep_their_ids_whatever_the_order_of_the_detections()
    {
        // Face A moves right along y = 0, face B moves left along y = 40: their boxes overlap most while passing.
        var tracker = new FaceTracker(Raw);
        for (int frame = 0; frame <= 40; frame++)
        {
            var a = FaceAt(10 * frame, 0);
            var b = FaceAt(400 - (10 * frame), 40);
            var faces = tracker.Update(frame % 2 == 0 ? [a, b] : [b, a]);

            Assert.Equal(2, faces.Count);
            Assert.Equal(a.Box, faces.Single(f => f.Id == 1).Box);
            Assert.Equal(b.Box, faces.Single(f => f.Id == 2).Box);
        }

        Assert.Equal(2, tracker.TracksCreated);
    }

    [Fact]
    public void The_highest_overlap_is_matched_first_not_the_first_track_or_detection()
    {
        var tracker = new FaceTracker(Raw);
        tracker.Update([FaceAt(0, 0), FaceAt(60, 0)]); // id 1 at x 0, id 2 at x 60

        // Detection P at x 35 overlaps id 1 (IoU 65/135 = 0.48) and id 2 (75/125 = 0.6); Q at x -45 overlaps only id 1
        // (55/145 = 0.38). Letting each track take its best detection in track order would give P to id 1, leave id 2
        // unmatched and start a third track for Q; by overlap, P goes to id 2 and Q to id 1.
        var faces = tracker.Update([FaceAt(35, 0), FaceAt(-45, 0)]);

        Assert.Equal(2, faces.Count);
        Assert.Equal(-45f, faces.Single(f => f.Id == 1).Box.X1);
        Assert.Equal(35f, faces.Single(f => f.Id == 2).Box.X1);
        Assert.Equal(2, tracker.TracksCreated);
    }

    [Fact]
    public void A_detection_overlapping_less_than_the_threshold_starts_a_new_track()
    {
        var tracker = new FaceTracker(new TrackerOptions { IouThreshold = 0.5f, Smoothing = 0f, MinHits = 1 });
        tracker.Update([FaceAt(0, 0)]);
        var faces = tracker.Update([FaceAt(40, 0)]); // IoU 60/140 = 0.43 < 0.5

        Assert.Equal(2, Assert.Single(faces).Id);
        Assert.Single(tracker.Tracks, t => t.Missed == 1); // id 1 coasts
    }

    [Fact]
    public void Boxes_that_do_not_touch_never_match_even_with_threshold_0()
    {
        var tracker = new FaceTracker(new TrackerOptions { IouThreshold = 0f, MinHits = 1 });
        tracker.Update([FaceAt(0, 0)]);

        Assert.Equal(2, Assert.Single(tracker.Update([FaceAt(300, 0)])).Id);
    }

    [Fact]
    public void Visible_keeps_the_last_detection_frames_faces_and_reset_starts_over()
    {
        var tracker = new FaceTracker();
        var faces = tracker.Update([FaceAt(0, 0)]);
        Assert.Same(faces, tracker.Visible);

        tracker.Reset();
        Assert.Empty(tracker.Visible);
        Assert.Equal(1, Assert.Single(tracker.Update([FaceAt(500, 0)])).Id);
    }

    [Fact]
    public void With_min_hits_3_a_face_entering_after_the_start_is_reported_from_its_third_detection_with_id_1()
    {
        var tracker = new FaceTracker(new TrackerOptions { MinHits = 3 });
        tracker.Update([]); // the first MinHits - 1 = 2 detection frames of the clip are empty
        tracker.Update([]);

        Assert.Empty(tracker.Update([FaceAt(0, 0)]));
        Assert.Empty(tracker.Update([FaceAt(2, 0)]));
        var face = Assert.Single(tracker.Update([FaceAt(4, 0)]));
        Assert.Equal(1, face.Id);
        Assert.Equal(3, face.Hits);
        Assert.Equal(1, tracker.TracksCreated);
    }

    [Fact]
    public void With_min_hits_2_one_frame_false_positives_get_no_id_and_ids_stay_dense()
    {
        var tracker = new FaceTracker(new TrackerOptions { MinHits = 2, Smoothing = 0 });
        tracker.Update([FaceAt(0, 0)]);
        tracker.Update([FaceAt(0, 0), FaceAt(500, 0)]);   // a flash at x 500: tentative
        tracker.Update([FaceAt(0, 0)]);                    // gone: dropped at its first miss
        tracker.Update([FaceAt(0, 0), FaceAt(300, 300)]);  // a real second face appears...
        var faces = tracker.Update([FaceAt(0, 0), FaceAt(302, 300)]);

        Assert.Equal([1, 2], faces.Select(f => f.Id)); // ...and gets id 2, not 3
        Assert.Equal(302f, faces[1].Box.X1);
        Assert.Equal(2, tracker.TracksCreated);
        Assert.Equal(2, tracker.Tracks.Count);
    }

    [Fact]
    public void The_default_confirms_a_face_on_its_second_detection()
    {
        Assert.Equal(2, TrackerOptions.Default.MinHits);
        Assert.Equal(2, new FaceTracker().Options.MinHits);
    }

    [Fact]
    public void With_the_default_one_frame_false_positives_are_never_reported()
    {
        // A real face on every frame, and a flash somewhere else on every 7th frame, never twice in a row.
        var tracker = new FaceTracker();
        for (int frame = 0; frame < 60; frame++)
        {
            var real = FaceAt(2 * frame, 0);
            var faces = tracker.Update(frame % 7 == 3 ? [real, FaceAt(300 + (5 * frame), 300, size: 30, score: 0.999f)] : [real]);

            var face = Assert.Single(faces);
            Assert.Equal(1, face.Id);
        }

        Assert.Equal(1, tracker.TracksCreated);
        Assert.Single(tracker.Tracks);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void A_face_present_from_the_first_frame_of_a_clip_is_reported_on_that_frame(int minHits)
    {
        var tracker = new FaceTracker(new TrackerOptions { MinHits = minHits });

        var faces = tracker.Update([FaceAt(0, 0), FaceAt(300, 0)]);

        Assert.Equal([1, 2], faces.Select(f => f.Id));
        Assert.Equal(2, tracker.TracksCreated);
    }

    [Fact]
    public void The_start_of_a_clip_lasts_min_hits_minus_1_detection_frames()
    {
        // MinHits 3: faces first seen on detection frame 1 or 2 are reported at once, from frame 3 on they wait.
        var tracker = new FaceTracker(new TrackerOptions { MinHits = 3, Smoothing = 0 });
        Assert.Empty(tracker.Update([]));
        Assert.Equal(1, Assert.Single(tracker.Update([FaceAt(0, 0)])).Id);
        var third = tracker.Update([FaceAt(0, 0), FaceAt(300, 0)]);

        Assert.Equal(1, Assert.Single(third).Id);
        Assert.Equal(1, tracker.TracksCreated);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_face_entering_mid_scene_is_reported_on_its_min_hits_th_detection(int minHits)
    {
        var tracker = new FaceTracker(new TrackerOptions { MinHits = minHits, Smoothing = 0 });
        for (int frame = 0; frame < 5; frame++)
        {
            tracker.Update([FaceAt(0, 0)]);
        }

        for (int hit = 1; hit < minHits; hit++)
        {
            Assert.Equal([1], tracker.Update([FaceAt(0, 0), FaceAt(300, 100 + hit)]).Select(f => f.Id));
        }

        var faces = tracker.Update([FaceAt(0, 0), FaceAt(300, 100 + minHits)]);
        Assert.Equal([1, 2], faces.Select(f => f.Id));
        Assert.Equal(minHits, faces[1].Hits);
        Assert.Equal(100f + minHits, faces[1].Box.Y1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_face_right_after_a_scene_cut_is_reported_at_once(int minHits)
    {
        var tracker = new FaceTracker(new TrackerOptions { MinHits = minHits, Smoothing = 0 });
        for (int frame = 0; frame < 10; frame++)
        {
            tracker.Update([FaceAt(0, 0)]);
        }

        tracker.StartScene();
        var faces = tracker.Update([FaceAt(400, 200)]);

        Assert.Equal(2, Assert.Single(faces).Id);
        Assert.Equal(400f, faces[0].Box.X1);
        Assert.Equal(1, tracker.ScenesStarted);
    }

    [Fact]
    public void Without_a_scene_cut_the_same_face_waits_for_confirmation()
    {
        var tracker = new FaceTracker(new TrackerOptions { MinHits = 2, Smoothing = 0 });
        for (int frame = 0; frame < 10; frame++)
        {
            tracker.Update([FaceAt(0, 0)]);
        }

        Assert.Empty(tracker.Update([FaceAt(400, 200)]));
        Assert.Equal(2, Assert.Single(tracker.Update([FaceAt(400, 200)])).Id);
        Assert.Equal(0, tracker.ScenesStarted);
    }

    [Fact]
    public void The_start_of_a_scene_lasts_min_hits_minus_1_detection_frames_then_flashes_are_hidden_again()
    {
        var tracker = new FaceTracker(new TrackerOptions { MinHits = 3, Smoothing = 0 });
        for (int frame = 0; frame < 5; frame++)
        {
            tracker.Update([]);
        }

        tracker.StartScene();
        Assert.Empty(tracker.Update([]));                                        // 1st frame of the scene: nobody yet
        Assert.Equal(1, Assert.Single(tracker.Update([FaceAt(0, 0)])).Id);      // 2nd: still reported at once
        Assert.Equal([1], tracker.Update([FaceAt(0, 0), FaceAt(300, 0)]).Select(f => f.Id)); // 3rd: a flash is not
        Assert.Equal([1], tracker.Update([FaceAt(0, 0)]).Select(f => f.Id));
        Assert.Equal(1, tracker.TracksCreated);
    }

    [Fact]
    public void A_face_that_stays_in_place_across_a_scene_cut_keeps_its_id()
    {
        // A cut found by mistake (or a flash) must not renumber the faces that are still there.
        var tracker = new FaceTracker(new TrackerOptions { MinHits = 2, Smoothing = 0 });
        tracker.Update([FaceAt(0, 0)]);
        tracker.Update([FaceAt(2, 0)]);
        tracker.StartScene();

        var face = Assert.Single(tracker.Update([FaceAt(4, 0)]));
        Assert.Equal(1, face.Id);
        Assert.Equal(3, face.Hits);
        Assert.Equal(1, tracker.TracksCreated);
    }

    [Fact]
    public void With_min_hits_1_a_scene_cut_changes_nothing_and_reset_forgets_the_cuts()
    {
        var tracker = new FaceTracker(Immediate);
        tracker.Update([FaceAt(0, 0)]);
        tracker.StartScene();
        Assert.Equal([1, 2], tracker.Update([FaceAt(0, 0), FaceAt(300, 0)]).Select(f => f.Id));
        Assert.Equal(1, tracker.ScenesStarted);

        tracker.Reset();
        Assert.Equal(0, tracker.ScenesStarted);
    }

    [Theory]
    [InlineData(-0.1f, 0.5f, 5, "IouThreshold")]
    [InlineData(1.1f, 0.5f, 5, "IouThreshold")]
    [InlineData(0.3f, 1f, 5, "Smoothing")]
    [InlineData(0.3f, -0.5f, 5, "Smoothing")]
    [InlineData(0.3f, 0.5f, 0, "ExpireAfterMisses")]
    [InlineData(0.3f, 0.5f, 5, "MinHits", 0)]
    public void Out_of_range_options_name_the_setting_and_its_range(float iou, float smoothing, int expiry, string name, int minHits = 1)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new FaceTracker(new TrackerOptions { IouThreshold = iou, Smoothing = smoothing, ExpireAfterMisses = expiry, MinHits = minHits }));

        Assert.Equal(name, e.ParamName);
        Assert.Contains(" must be in ", e.Message, StringComparison.Ordinal);
    }
}
