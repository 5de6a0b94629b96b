// Stylesheets are imported for the bundler's sake; they export nothing.
declare module '*.css';
