// taskdist's cheap scene: flat shapes over a flat background, lit by nothing but their own
// ambient colour, seen by an orthographic camera. Tracing costs a fraction of a microsecond a
// pixel and its rows compress some 300:1, so an image far larger than the master's memory bound
// renders in seconds and its bands' deflated bytes stay small (the memory test in
// tests/render_e2e_test.cpp).
#version 3.7;
global_settings { assumed_gamma 1.0 }

camera { orthographic location <0.5, 0.5, -1> right x up y look_at <0.5, 0.5, 0> }
background { rgb <0.12, 0.2, 0.45> }
#declare Flat = finish { ambient 1 diffuse 0 };
sphere { <0.3, 0.7, 0>, 0.22 pigment { rgb <0.95, 0.75, 0.2> } finish { Flat } }
sphere { <0.72, 0.35, 0>, 0.25 pigment { rgb <0.85, 0.25, 0.2> } finish { Flat } }
sphere { <0.6, 0.82, 0>, 0.08 pigment { rgb 0.95 } finish { Flat } }
box {
  <0.1, 0.08, 0>, <0.45, 0.3, 0.1>
  rotate z * 12
  pigment { rgb <0.3, 0.8, 0.4> }
  finish { Flat }
}
